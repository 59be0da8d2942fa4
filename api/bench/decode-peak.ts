/**
 * One JPEG decode in a fresh process, for bench:abuse: prints {"ms", "rssBefore", "rssPeak",
 * "width", "height"} as JSON (RSS in KB). `lib` decodes as the API does (lib/image, with the
 * Workers' decoder-memory limit); `full` decodes at full size with jpeg-js, as lib/image did
 * before large JPEGs were decoded at 1/8 scale — the baseline the figure is compared with.
 * The decode is synchronous, so a worker thread samples the process's resident memory
 * (/proc/self/status, Linux) every millisecond meanwhile; getrusage's high-water mark would not
 * do, as it keeps the parent's figure across exec.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import jpeg from 'jpeg-js';
import { decodeImage } from '../../lib/image/index.ts';

const [file, mode] = process.argv.slice(2);
const bytes = new Uint8Array(readFileSync(file));
const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
// [0]: 1 while sampling; [1]: the largest RSS seen (KB); [2]: samples taken.
const shared = new Int32Array(new SharedArrayBuffer(12));
const sampler = new Worker(`
  const { workerData } = require('node:worker_threads');
  const { readFileSync } = require('node:fs');
  const s = workerData;
  while (Atomics.load(s, 0) === 1) {
    const kb = Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
    if (kb > s[1]) Atomics.store(s, 1, kb);
    Atomics.add(s, 2, 1);
    Atomics.wait(s, 0, 1, 1);
  }`, { eval: true, workerData: shared });
shared[0] = 1;
await new Promise((r) => setTimeout(r, 100));
while (Atomics.load(shared, 2) === 0) await new Promise((r) => setTimeout(r, 10));
const rssBefore = rssKb();
const t = performance.now();
const out = mode === 'full'
  ? jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 4096 })
  : decodeImage(bytes, 'image/jpeg', { maxDecodeMemory: 48 * 1024 * 1024 }, { color: true });
const ms = performance.now() - t;
Atomics.store(shared, 0, 0);
Atomics.notify(shared, 0);
await sampler.terminate();
console.log(JSON.stringify({ ms, rssBefore, rssPeak: Math.max(shared[1], rssBefore), width: out.width, height: out.height }));
