/**
 * Resident memory of a process, from Linux's /proc/<pid>/status (KB): the current figure, the
 * high-water mark and its reset (`5` to /proc/<pid>/clear_refs, Linux 4.0+, our own processes),
 * and a sampler on a worker thread that reads the current figure every millisecond while the
 * caller's thread is busy — a synchronous decode, or waiting on a request.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

const field = (pid: number | 'self', name: 'VmRSS' | 'VmHWM') =>
  Number(new RegExp(`${name}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

export const rssKb = (pid: number | 'self' = 'self') => field(pid, 'VmRSS');
export const hwmKb = (pid: number | 'self' = 'self') => field(pid, 'VmHWM');

/** Resets the high-water mark to the current RSS; false where the kernel does not allow it. */
export function resetHwm(pid: number | 'self' = 'self'): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return hwmKb(pid) <= rssKb(pid) + 1024;
  } catch {
    return false;
  }
}

export interface RssSampler {
  /** Stops sampling: the largest RSS seen (KB) and how many samples were taken. */
  stop(): Promise<{ peakKb: number; samples: number }>;
}

/** Samples `pid`'s RSS every millisecond on a worker thread; resolves once the first sample is in. */
export async function startRssSampler(pid: number | 'self' = 'self'): Promise<RssSampler> {
  // [0]: 1 while sampling; [1]: the largest RSS seen (KB); [2]: samples taken.
  const shared = new Int32Array(new SharedArrayBuffer(12));
  shared[0] = 1;
  // Plain JavaScript: the worker is not loaded through tsx.
  const worker = new Worker(`
    const { workerData: { s, path } } = require('node:worker_threads');
    const { readFileSync } = require('node:fs');
    while (Atomics.load(s, 0) === 1) {
      let kb = 0;
      try { kb = Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync(path, 'utf8'))[1]); } catch { break; }
      if (kb > s[1]) Atomics.store(s, 1, kb);
      Atomics.add(s, 2, 1);
      Atomics.wait(s, 0, 1, 1);
    }`, { eval: true, workerData: { s: shared, path: `/proc/${pid}/status` } });
  while (Atomics.load(shared, 2) === 0) await new Promise((r) => setTimeout(r, 5));
  return {
    async stop() {
      Atomics.store(shared, 0, 0);
      Atomics.notify(shared, 0);
      await worker.terminate();
      return { peakKb: shared[1], samples: shared[2] };
    },
  };
}
