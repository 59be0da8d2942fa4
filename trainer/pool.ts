import { Worker } from 'node:worker_threads';
import type { ClassArray } from '../lib/class-array.ts';
import type { Engine } from './engine.ts';
import type { WorkerMessage, WorkerShared, WorkerTask } from './worker.ts';

type Pending = { resolve: (m: WorkerMessage) => void; reject: (e: Error) => void; onProgress?: (examples: number) => void };
type TaskInput = WorkerTask extends infer T ? (T extends WorkerTask ? Omit<T, 'id'> : never) : never;

/** A fixed set of worker threads fed from one queue; each task resolves with its final message. */
export class WorkerPool {
  private workers: Worker[] = [];
  private idle: Worker[] = [];
  private queue: { task: WorkerTask; pending: Pending }[] = [];
  private running = new Map<number, Pending>();
  private nextId = 1;
  engine: Engine | null = null;

  constructor(size: number, shared: WorkerShared) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL('./worker-entry.js', import.meta.url), { workerData: shared });
      w.on('message', (m: WorkerMessage) => this.onMessage(w, m));
      w.on('error', (err) => this.failAll(err));
      w.on('exit', (code) => { if (code !== 0) this.failAll(new Error(`worker exited with code ${code}`)); });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  run(task: TaskInput, onProgress?: (examples: number) => void): Promise<WorkerMessage> {
    return new Promise((resolve, reject) => {
      const full = { ...task, id: this.nextId++ } as WorkerTask;
      this.queue.push({ task: full, pending: { resolve, reject, onProgress } });
      this.pump();
    });
  }

  private pump() {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const { task, pending } = this.queue.shift()!;
      this.running.set(task.id, pending);
      (w as Worker & { taskId?: number }).taskId = task.id;
      w.postMessage(task);
    }
  }

  private onMessage(w: Worker, m: WorkerMessage) {
    if (m.type === 'engine') { this.engine ??= m.engine; return; }
    const pending = this.running.get(m.id);
    if (!pending) return;
    if (m.type === 'progress') { pending.onProgress?.(m.examples); return; }
    this.running.delete(m.id);
    this.idle.push(w);
    if (m.type === 'error') pending.reject(new Error(m.message));
    else pending.resolve(m);
    this.pump();
  }

  private failAll(err: Error) {
    for (const p of this.running.values()) p.reject(err);
    for (const q of this.queue) q.pending.reject(err);
    this.running.clear();
    this.queue = [];
  }

  async close() {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Copies into a SharedArrayBuffer so every worker sees one copy. */
export function shareFloat32(src: ArrayLike<number>, scale = 1): Float32Array {
  const out = new Float32Array(new SharedArrayBuffer(src.length * 4));
  for (let i = 0; i < src.length; i++) out[i] = src[i] * scale;
  return out;
}
export function shareUint8(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(src.length));
  out.set(src);
  return out;
}
/** Class indices into a SharedArrayBuffer, keeping their width (1 or 2 bytes, lib/class-array.ts). */
export function shareClassArray(src: ClassArray): ClassArray {
  if (src instanceof Uint8Array) return shareUint8(src);
  const out = new Uint16Array(new SharedArrayBuffer(src.byteLength));
  out.set(src);
  return out;
}
