/**
 * Node: uploads are decoded, preprocessed and predicted in a pool of worker threads (piscina),
 * so that a large legal image or a costly population (a CNN run's hundreds of models) costs the
 * event loop nothing and /health and lookups keep answering. The queue is bounded: when it is
 * full the request is refused at once with 503 and Retry-After rather than waiting behind others.
 *
 * Predictions: each thread holds the levels it has used in a predictor cache of its own, with an
 * equal share of the predictor memory budget; a level a thread lacks is read and checked against
 * the manifest here, on the main thread (file reads and hashing are I/O and async), and handed
 * over on the task's message port. A prediction is split by levels over the threads idle when it
 * arrives (groups of about equal time, from each level's last measured time), so that one
 * request's latency falls with the threads available; a small one (under SPLIT_MIN_MS), and every
 * request under load, is one task. An upload that is not split is decoded and predicted in that
 * one task: waking an idle thread and then the event loop costs ~0.15–0.4 ms on a virtual
 * machine, once per task rather than once per request.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, type TransferListItem } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { classBytesFor, type ClassArray } from '../lib/class-array.ts';
import { ApiError, Overloaded } from './errors.ts';
import { ImageError, type ImageErrorCode } from '../lib/image/errors.ts';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { LoadedRun } from './runs.ts';
import type { Prepared, PrepareRequest } from './upload.ts';
import type { PredictAnswer, PredictTask, TaskError, TaskLevel, ThreadCacheStats, WorkerAnswer } from './upload-worker.ts';

export interface UploadPoolOptions {
  /** Worker threads (PIE_UPLOAD_THREADS; default: cores − 1, at least 1). */
  threads?: number;
  /** Uploads waiting for a thread before new ones get 503 (PIE_UPLOAD_QUEUE; default 16). */
  queue?: number;
  /** Memory for loaded model weights, shared equally by the threads (PIE_PREDICTOR_BUDGET_MB). */
  predictorBudgetBytes?: number;
  /** A prediction is split over idle threads only when its levels took at least this long (ms; default SPLIT_MIN_MS). */
  splitMinMs?: number;
}

/**
 * Below this many ms of prediction, one task: a split costs a second task's round trip (measured
 * ~0.3 ms), which a small run's prediction (the tiny preset's: 0.4 ms) does not win back.
 */
export const SPLIT_MIN_MS = 1;

export interface UploadPool {
  prepare(req: PrepareRequest): Promise<Prepared>;
  /** Member predictions [levels × K] of a prepared image, as liveMemberPredictions gives them. */
  predict(run: LoadedRun, input: Float32Array, levelIndices?: readonly number[]): Promise<ClassArray>;
  /**
   * prepare, then predict: in one task (one thread round trip instead of two), unless the
   * prediction is to be split over idle threads.
   */
  upload(run: LoadedRun, req: PrepareRequest, levelIndices?: readonly number[]): Promise<{ prepared: Prepared; predictions: ClassArray }>;
  /** The threads' predictor caches as of their last prediction: loads, evictions and bytes held, summed. */
  predictorStats(): { threads: number; loads: number; evictions: number; usedBytes: number };
  /** Prediction tasks submitted since start: one per prediction, or one per group of a split one. */
  predictTasks(): number;
  /** Tasks of any kind (preparations too) submitted since start. */
  tasks(): number;
  close(): Promise<void>;
}

export function createUploadPool(opts: UploadPoolOptions = {}): UploadPool {
  const threads = opts.threads ?? Math.max(1, availableParallelism() - 1);
  const queue = opts.queue ?? 16;
  const splitMinMs = opts.splitMinMs ?? SPLIT_MIN_MS;
  const filename = new URL('./upload-worker.ts', import.meta.url).href;
  const predictorBudgetBytes = (opts.predictorBudgetBytes ?? Infinity) / threads;
  // Threads stay up (no idle timeout): each holds the levels it has loaded.
  const pool = new Piscina({
    filename, minThreads: 0, maxThreads: threads, maxQueue: queue, idleTimeout: Infinity, workerData: { predictorBudgetBytes, threads },
    // The worker is TypeScript: load it through tsx, as the server itself is.
    execArgv: [...process.execArgv.filter((a) => !/^--(inspect|expose[-_]gc)/.test(a)), '--import', 'tsx'],
  });
  const busy = () => new Overloaded(`${queue} uploads are already waiting for a thread; try again shortly`);
  let tasks = 0;
  const run = async <T>(task: unknown, options: { name?: string; transferList?: TransferListItem[] }): Promise<T> => {
    if (pool.queueSize >= queue) throw busy();
    tasks++;
    try {
      return await pool.run(task, options);
    } catch (err) {
      if (/queue is at limit/i.test((err as Error)?.message ?? '')) throw busy();
      throw err;
    }
  };
  const threadStats = new Map<number, ThreadCacheStats>();
  /** Prediction tasks submitted and not yet settled, and since start. */
  let inFlight = 0, submitted = 0;
  /** Each level's time to predict one image, as a thread last measured it (its loading excluded). */
  const levelMs = new Map<string, number>();
  /**
   * One task: the members of `wanted`'s levels (their entries of the answer; others 0), of a
   * prepared input, or of an upload prepared in the same task.
   */
  const predictGroup = async (loaded: LoadedRun, source: Pick<PredictTask, 'input' | 'upload'>, wanted: TaskLevel[]): Promise<{ predictions: ClassArray; prepared?: Prepared }> => {
    const { port1, port2 } = new MessageChannel();
    let readFailure: unknown = null;
    port1.on('message', ({ id, t }: { id: number; t: number }) => {
      loaded.levelModelFiles(t).then(
        (files) => port1.postMessage({ id, files }, ownBuffers(files)),
        (err: unknown) => { readFailure = err; port1.postMessage({ id, failed: true }); },
      );
    });
    const task: PredictTask = {
      ...source, levels: loaded.levels, K: loaded.K, classBytes: classBytesFor(loaded.numClasses), wanted, port: port2,
    };
    let answer: PredictAnswer;
    inFlight++;
    submitted++;
    try {
      const bytes = source.upload?.kind === 'bytes' ? ownBuffers([source.upload.bytes]) : [];
      answer = await run<PredictAnswer>(task, { name: 'predict', transferList: [port2, ...bytes] });
    } finally {
      inFlight--;
      port1.close();
    }
    threadStats.set(answer.stats.thread, answer.stats);
    if (answer.ok) {
      answer.levelMs.forEach((ms, i) => levelMs.set(wanted[i].key, ms));
      return { predictions: answer.predictions, prepared: answer.prepared };
    }
    if (answer.error === null) throw readFailure; // a damaged run: its own error (CorruptRun), logged once by onError
    throw thrown(answer.error);
  };
  const wantedOf = (loaded: LoadedRun, levelIndices?: readonly number[]): TaskLevel[] => (levelIndices ?? loaded.manifest.levels.map((_, t) => t)).map((t) => ({
    t, key: loaded.levelKey(t), what: loaded.levelWhat(t), fileBytes: loaded.levelFileBytes(t),
  }));
  /** Into how many tasks a prediction of `wanted` arriving now is split. */
  const tasksFor = (wanted: TaskLevel[]) => splitCount(wanted.map((l) => levelMs.get(l.key)), threads - inFlight, splitMinMs);
  /** A prepared input's prediction, split by levels over the idle threads (splitCount), the groups' answers merged. */
  const predictSplit = async (loaded: LoadedRun, input: Float32Array, wanted: TaskLevel[]): Promise<ClassArray> => {
    const groups = splitLevels(wanted, tasksFor(wanted), (l) => levelMs.get(l.key) ?? 0);
    const answers = await Promise.all(groups.map(async (group) => (await predictGroup(loaded, { input }, group)).predictions));
    const out = answers[0];
    for (let g = 1; g < groups.length; g++) {
      for (const { t } of groups[g]) out.set(answers[g].subarray(t * loaded.K, (t + 1) * loaded.K), t * loaded.K);
    }
    return out;
  };
  const prepare = async (req: PrepareRequest): Promise<Prepared> => {
    const answer = await run<WorkerAnswer>(req, { transferList: req.kind === 'bytes' ? ownBuffers([req.bytes]) : [] });
    if (answer.ok) return answer.prepared;
    throw thrown(answer.error);
  };
  return {
    prepare,
    predict: (loaded, input, levelIndices) => predictSplit(loaded, input, wantedOf(loaded, levelIndices)),
    async upload(loaded, req, levelIndices) {
      const wanted = wantedOf(loaded, levelIndices);
      if (tasksFor(wanted) === 1) {
        const { predictions, prepared } = await predictGroup(loaded, { upload: req }, wanted);
        return { prepared: prepared!, predictions };
      }
      const prepared = await prepare(req);
      return { prepared, predictions: await predictSplit(loaded, prepared.input, wanted) };
    },
    predictTasks: () => submitted,
    tasks: () => tasks,
    predictorStats() {
      const all = [...threadStats.values()];
      return {
        threads: all.length,
        loads: all.reduce((a, s) => a + s.loads, 0),
        evictions: all.reduce((a, s) => a + s.evictions, 0),
        usedBytes: all.reduce((a, s) => a + s.usedBytes, 0),
      };
    },
    close: () => pool.destroy(),
  };
}

/** A thread's error as the error it was: an ImageError, an ApiError (a 4xx), or a plain Error (a 500). */
function thrown(e: TaskError): Error {
  if (e.image) return new ImageError(e.code as ImageErrorCode, e.message);
  if (e.status !== 500) return new ApiError(e.status as ContentfulStatusCode, e.code, e.message);
  return new Error(e.message);
}

/**
 * How many tasks a prediction is split into: one per idle thread (at most one per level), when
 * every level's last time (`ms`, undefined where not yet measured) is known and together they took
 * at least `minMs`; else one. Under load (no thread idle) one task too: a queued request gains
 * nothing from a split, and would take more of the queue.
 */
export function splitCount(ms: readonly (number | undefined)[], idle: number, minMs: number): number {
  if (ms.some((t) => t === undefined)) return 1;
  const total = (ms as number[]).reduce((a, b) => a + b, 0);
  return total >= minMs ? Math.max(1, Math.min(idle, ms.length)) : 1;
}

/**
 * Levels into at most `n` groups of about equal `weight` (each level to the lightest group so
 * far, heaviest first), each group in level order: the tasks of one prediction, one per thread.
 */
export function splitLevels<L extends { t: number }>(levels: readonly L[], n: number, weight: (level: L) => number): L[][] {
  const groups = Array.from({ length: Math.min(n, levels.length) }, () => ({ weight: 0, levels: [] as L[] }));
  for (const level of [...levels].sort((a, b) => weight(b) - weight(a) || a.t - b.t)) {
    const lightest = groups.reduce((a, b) => (b.weight < a.weight ? b : a));
    lightest.weight += weight(level);
    lightest.levels.push(level);
  }
  return groups.map((g) => g.levels.sort((a, b) => a.t - b.t));
}

/**
 * The buffers of these arrays that can move to the thread without a copy: each array's own,
 * whole buffer, once (a view into a shared or pooled buffer is copied by structured cloning instead).
 */
function ownBuffers(arrays: Uint8Array[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const a of arrays) {
    if (a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) out.add(a.buffer);
  }
  return [...out];
}
