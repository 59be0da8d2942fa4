/**
 * A worker thread of the trainer: trains members (the project's WebAssembly kernels and tfjs),
 * evaluates compact models (lib/ kernels) and decodes image-folder files (lib/image). One per
 * core: the kernels and the wasm backend are single-threaded, so parallelism is by worker.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
// tfjs loads on the first training task only: a pool that decodes images never pays for it.
import type { Engine } from './engine.ts';
import type { MemberSpec, MlpPath, trainMember } from './train.ts';
import type { CnnMemberSpec, CnnPath, trainCnnMember } from './cnn-train.ts';
import { createPredictor, decodeModel } from '../lib/model/index.ts';
import type { ClassArray } from '../lib/class-array.ts';
import { installNodeKernels } from '../node/wasm-kernels.ts';
import { decodeFiles, probeImage, type DecodeJob, type DecodeResult, type ProbeResult } from './decode-images.ts';

export interface WorkerShared {
  engine: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  /** Float32 [n × inDim] in SharedArrayBuffers (absent in a pool that only decodes images). */
  train?: { images: Float32Array; labels: ClassArray; n: number };
  test?: { images: Float32Array; n: number };
}

export type WorkerTask =
  /** `path`: where the MLP trains (default: defaultMlpPath() in train.ts; benchmarks compare both). */
  | { type: 'train'; id: number; spec: MemberSpec; path?: MlpPath }
  /** `n`: train on the first n training images only (benchmarks); `path` as for the MLP (default: defaultCnnPath() in cnn-train.ts). */
  | { type: 'train-cnn'; id: number; spec: CnnMemberSpec; n?: number; path?: CnnPath }
  /** images: another test set (e.g. corrupted), float32 [n × inDim] preprocessed as `test`; default the shared test set. */
  | { type: 'evaluate'; id: number; model: Uint8Array; images?: Float32Array; n?: number }
  | { type: 'probe'; id: number; files: string[] }
  | ({ type: 'decode'; id: number } & DecodeJob);

export type WorkerMessage =
  | { type: 'engine'; engine: Engine }
  | { type: 'progress'; id: number; examples: number; loss: number }
  | { type: 'trained'; id: number; result: ReturnType<typeof trainMember>; tfjsPredictions: ClassArray; timing: TrainTiming }
  | { type: 'trained-cnn'; id: number; result: ReturnType<typeof trainCnnMember>; tfjsPredictions: ClassArray; timing: TrainTiming }
  | { type: 'evaluated'; id: number; predictions: ClassArray; seconds: number }
  | { type: 'probed'; id: number; results: ProbeResult[] }
  | ({ type: 'decoded'; id: number } & DecodeResult)
  | { type: 'error'; id: number; message: string };

/** How a training task used its thread: for benchmarks on a machine shared with other work. */
export interface TrainTiming {
  /** CPU seconds of this thread in training (Linux), else null. */
  cpuSeconds: number | null;
  /** Examples/s over the fastest 50 steps between two loss reports (the least disturbed), null without any. */
  fastest: number | null;
}

const shared = workerData as WorkerShared;

/** CPU seconds used by this thread (utime + stime of /proc/thread-self/stat, in 1/100 s), or null off Linux. */
function threadCpuSeconds(): number | null {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}
const cpuSince = (start: number | null) => { const now = threadCpuSeconds(); return start === null || now === null ? null : now - start; };
let engine: Promise<Engine> | null = null;
// Evaluation runs on the WebAssembly kernels, the same ones the API runs live.
const kernels = installNodeKernels();

parentPort!.on('message', async (task: WorkerTask) => {
  try {
    if (task.type === 'probe') {
      parentPort!.postMessage({ type: 'probed', id: task.id, results: task.files.map(probeImage) } satisfies WorkerMessage);
    } else if (task.type === 'decode') {
      parentPort!.postMessage({ type: 'decoded', id: task.id, ...decodeFiles(task) } satisfies WorkerMessage);
    } else if (task.type === 'train' || task.type === 'train-cnn') {
      if (!engine) {
        engine = import('./engine.ts').then((m) => m.initEngine(shared.engine));
        parentPort!.postMessage({ type: 'engine', engine: await engine } satisfies WorkerMessage);
      }
      await engine;
      let last = 0, lastAt = 0, fastest: number | null = null;
      const stretch = 50 * task.spec.batchSize;
      const onProgress = (examples: number, loss: number) => {
        const at = performance.now();
        if (last > 0 && examples - last === stretch) fastest = Math.max(fastest ?? 0, stretch / ((at - lastAt) / 1000));
        parentPort!.postMessage({ type: 'progress', id: task.id, examples: examples - last, loss } satisfies WorkerMessage);
        last = examples;
        lastAt = at;
      };
      const finish = (examples: number, loss: number) => {
        if (examples > last) parentPort!.postMessage({ type: 'progress', id: task.id, examples: examples - last, loss } satisfies WorkerMessage);
      };
      await kernels; // the MLP trains on them, and the CNN's conv weight gradients run there
      if (task.type === 'train') {
        const { tfjsPredict, trainMember } = await import('./train.ts');
        const cpu0 = threadCpuSeconds();
        const result = trainMember(task.spec, shared.train!, onProgress, undefined, task.path);
        const timing = { cpuSeconds: cpuSince(cpu0), fastest };
        finish(result.examples, result.finalLoss);
        const tfjsPredictions = tfjsPredict(result.weights, shared.test!.images, shared.test!.n);
        const transfer = [tfjsPredictions.buffer];
        parentPort!.postMessage({ type: 'trained', id: task.id, result, tfjsPredictions, timing } satisfies WorkerMessage, transfer as ArrayBuffer[]);
      } else {
        const { tfjsArchPredict, trainCnnMember } = await import('./cnn-train.ts');
        const train = { ...shared.train!, n: Math.min(task.n ?? Infinity, shared.train!.n) };
        const cpu0 = threadCpuSeconds();
        const result = trainCnnMember(task.spec, train, onProgress, undefined, task.path);
        const timing = { cpuSeconds: cpuSince(cpu0), fastest };
        finish(result.examples, result.finalLoss);
        const tfjsPredictions = tfjsArchPredict(result.weights, shared.test!.images, shared.test!.n);
        parentPort!.postMessage({ type: 'trained-cnn', id: task.id, result, tfjsPredictions, timing } satisfies WorkerMessage, [tfjsPredictions.buffer as ArrayBuffer]);
      }
    } else {
      await kernels;
      const started = performance.now();
      const predictor = createPredictor(decodeModel(task.model));
      const predictions = task.images ? predictor.predictBatch(task.images, task.n!) : predictor.predictBatch(shared.test!.images, shared.test!.n);
      predictor.release();
      parentPort!.postMessage({ type: 'evaluated', id: task.id, predictions, seconds: (performance.now() - started) / 1000 } satisfies WorkerMessage, [predictions.buffer as ArrayBuffer]);
    }
  } catch (err) {
    parentPort!.postMessage({ type: 'error', id: task.id, message: (err as Error).stack ?? String(err) } satisfies WorkerMessage);
  }
});
