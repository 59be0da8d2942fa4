/**
 * Node: uploads are decoded and preprocessed in a pool of worker threads (piscina), so that a
 * large legal image costs the event loop nothing and /health and lookups keep answering. The
 * queue is bounded: when it is full the request is refused at once with 503 and Retry-After
 * rather than waiting behind others.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { Overloaded } from './errors.ts';
import { ImageError, type ImageErrorCode } from './image/errors.ts';
import type { Prepared, PrepareRequest } from './upload.ts';
import type { WorkerAnswer } from './upload-worker.ts';

export interface UploadPoolOptions {
  /** Worker threads (PIE_UPLOAD_THREADS; default: cores − 1, at least 1). */
  threads?: number;
  /** Uploads waiting for a thread before new ones get 503 (PIE_UPLOAD_QUEUE; default 16). */
  queue?: number;
}

export interface UploadPool {
  prepare(req: PrepareRequest): Promise<Prepared>;
  close(): Promise<void>;
}

export function createUploadPool(opts: UploadPoolOptions = {}): UploadPool {
  const threads = opts.threads ?? Math.max(1, availableParallelism() - 1);
  const queue = opts.queue ?? 16;
  const filename = new URL('./upload-worker.ts', import.meta.url).href;
  const pool = new Piscina({
    filename, minThreads: 0, maxThreads: threads, maxQueue: queue, idleTimeout: 30_000,
    // The worker is TypeScript: load it through tsx, as the server itself is.
    execArgv: [...process.execArgv.filter((a) => !/^--(inspect|expose[-_]gc)/.test(a)), '--import', 'tsx'],
  });
  return {
    async prepare(req) {
      if (pool.queueSize >= queue) throw new Overloaded(`${queue} uploads are already waiting to be decoded; try again shortly`);
      const transfer = req.kind === 'bytes' && req.bytes.byteOffset === 0 && req.bytes.byteLength === req.bytes.buffer.byteLength
        ? [req.bytes.buffer as ArrayBuffer] : [];
      let answer: WorkerAnswer;
      try {
        answer = await pool.run(req, { transferList: transfer });
      } catch (err) {
        if (/queue is at limit/i.test((err as Error)?.message ?? '')) throw new Overloaded(`${queue} uploads are already waiting to be decoded; try again shortly`);
        throw err;
      }
      if (answer.ok) return answer.prepared;
      if (answer.error.image) throw new ImageError(answer.error.code as ImageErrorCode, answer.error.message);
      throw new Error(answer.error.message);
    },
    close: () => pool.destroy(),
  };
}
