/**
 * A worker thread of the upload pool (api/upload-pool.ts): decodes and preprocesses one upload
 * (`default`), or predicts a prepared one with every member of the levels asked for (`predict`).
 * Each thread keeps the levels it has used in its own predictor cache (its share of the memory
 * budget, whole levels evicted least recently used); a level it lacks is asked of the main
 * thread over the task's port, which reads the files and checks them against the manifest.
 * Errors cross the thread boundary as plain data (structured cloning drops their class).
 */
import { threadId, type MessagePort } from 'node:worker_threads';
import { workerData } from 'piscina';
import { newClassArray, type ClassArray } from '../lib/class-array.ts';
import { ImageError } from '../lib/image/errors.ts';
import { createPredictor, decodeModel, predictEach, type Predictor } from '../lib/model/index.ts';
import { installNodeKernels } from '../node/wasm-kernels.ts';
import { ApiError } from './errors.ts';
import { PredictorCache } from './predictor-cache.ts';
import { prepareUpload, type Prepared, type PrepareRequest } from './upload.ts';

/** An error as it crosses to the main thread (structured cloning drops its class): an ImageError's code, an ApiError's status, else 500. */
export interface TaskError { status: number; code: string; message: string; image?: true }

function taskError(err: unknown): TaskError {
  const message = (err as Error)?.message ?? String(err);
  if (err instanceof ImageError) return { status: 400, code: err.code, message, image: true };
  if (err instanceof ApiError) return { status: err.status, code: err.code, message };
  return { status: 500, code: 'internal', message };
}

export type WorkerAnswer = { ok: true; prepared: Prepared } | { ok: false; error: TaskError };

export default function prepare(req: PrepareRequest): WorkerAnswer {
  try {
    return { ok: true, prepared: prepareUpload(req) };
  } catch (err) {
    return { ok: false, error: taskError(err) };
  }
}

/** One level of a prediction task: its index, cache key, name in errors and model file bytes. */
export interface TaskLevel { t: number; key: string; what: string; fileBytes: number }

export interface PredictTask {
  /** The prepared input; or `upload`: prepare it here first, in the same task (one thread round trip for both). */
  input?: Float32Array;
  upload?: PrepareRequest;
  /** The run's level count, K and class-index width: the shape of the answer. */
  levels: number;
  K: number;
  classBytes: 1 | 2;
  wanted: TaskLevel[];
  /** Asks the main thread for a level's model files: posts {id, t}, receives {id, files} or {id, failed: true}. */
  port: MessagePort;
}

/** The thread's predictor cache figures after a task (for the server's memory report and tests). */
export interface ThreadCacheStats { thread: number; loads: number; evictions: number; usedBytes: number }

export type PredictAnswer =
  | {
    ok: true; predictions: ClassArray; stats: ThreadCacheStats; /** ms each wanted level took to predict (loading excluded). */ levelMs: number[];
    /** The upload's preparation, when the task had one. */ prepared?: Prepared;
  }
  | { ok: false; /** null: the main thread failed to read a level, and keeps that error itself. */ error: TaskError | null; stats: ThreadCacheStats };

const kernels = installNodeKernels();
const { predictorBudgetBytes = Infinity, threads = 1 } = (workerData ?? {}) as { predictorBudgetBytes?: number; threads?: number };
const cache = new PredictorCache(predictorBudgetBytes, threads > 1 ? `a prediction thread's share (1/${threads}) of the predictor memory budget` : undefined);

const stats = (): ThreadCacheStats => ({ thread: threadId, loads: cache.stats.loads, evictions: cache.stats.evictions, usedBytes: cache.usedBytes });

export async function predict(task: PredictTask): Promise<PredictAnswer> {
  await kernels;
  const { port } = task;
  let asked = 0;
  const pending = new Map<number, { resolve: (files: Uint8Array[]) => void; reject: (err: Error) => void }>();
  port.on('message', (m: { id: number; files?: Uint8Array[]; failed?: true }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.files) p?.resolve(m.files);
    else p?.reject(new MainThreadFailure());
  });
  const filesOf = (t: number) => new Promise<Uint8Array[]>((resolve, reject) => {
    const id = asked++;
    pending.set(id, { resolve, reject });
    port.postMessage({ id, t });
  });
  try {
    const prepared = task.upload && prepareUpload(task.upload);
    const input = prepared?.input ?? task.input!;
    const out = newClassArray(task.levels * task.K, task.classBytes);
    const levelMs: number[] = [];
    for (const { t, key, what, fileBytes } of task.wanted) {
      await cache.with(key, what, fileBytes,
        async () => (await filesOf(t)).map((bytes) => createPredictor(decodeModel(bytes))),
        (predictors: Predictor[]) => {
          const started = performance.now();
          predictEach(predictors, input, out, t * task.K);
          levelMs.push(performance.now() - started);
        });
    }
    return { ok: true, predictions: out, stats: stats(), levelMs, ...(prepared ? { prepared } : {}) };
  } catch (err) {
    // The main thread keeps the error of a failed read (a damaged run) itself.
    if (err instanceof MainThreadFailure) return { ok: false, error: null, stats: stats() };
    return { ok: false, error: taskError(err), stats: stats() };
  } finally {
    port.close();
  }
}

class MainThreadFailure extends Error {}
