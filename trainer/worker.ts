/**
 * A worker thread of the trainer: trains members (tfjs) and evaluates compact models (lib/
 * kernels). One per core: the wasm backend is single-threaded, so parallelism is by worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initEngine, type Engine } from './engine.ts';
import { tfjsPredict, trainMember, type MemberSpec } from './train.ts';
import { createPredictor, decodeModel } from '../lib/model/index.ts';
import type { ClassArray } from '../lib/class-array.ts';

export interface WorkerShared {
  engine: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  /** Float32 [n × inDim] in SharedArrayBuffers. */
  train: { images: Float32Array; labels: Uint8Array; n: number };
  test: { images: Float32Array; n: number };
}

export type WorkerTask =
  | { type: 'train'; id: number; spec: MemberSpec }
  | { type: 'evaluate'; id: number; model: Uint8Array };

export type WorkerMessage =
  | { type: 'engine'; engine: Engine }
  | { type: 'progress'; id: number; examples: number; loss: number }
  | { type: 'trained'; id: number; result: ReturnType<typeof trainMember>; tfjsPredictions: ClassArray }
  | { type: 'evaluated'; id: number; predictions: ClassArray; seconds: number }
  | { type: 'error'; id: number; message: string };

const shared = workerData as WorkerShared;
let engine: Promise<Engine> | null = null;

parentPort!.on('message', async (task: WorkerTask) => {
  try {
    if (task.type === 'train') {
      if (!engine) {
        engine = initEngine(shared.engine);
        parentPort!.postMessage({ type: 'engine', engine: await engine } satisfies WorkerMessage);
      }
      await engine;
      let last = 0;
      const result = trainMember(task.spec, shared.train, (examples, loss) => {
        parentPort!.postMessage({ type: 'progress', id: task.id, examples: examples - last, loss } satisfies WorkerMessage);
        last = examples;
      });
      if (result.examples > last) {
        parentPort!.postMessage({ type: 'progress', id: task.id, examples: result.examples - last, loss: result.finalLoss } satisfies WorkerMessage);
      }
      const tfjsPredictions = tfjsPredict(result.weights, shared.test.images, shared.test.n);
      const transfer = [tfjsPredictions.buffer];
      parentPort!.postMessage({ type: 'trained', id: task.id, result, tfjsPredictions } satisfies WorkerMessage, transfer as ArrayBuffer[]);
    } else {
      const started = performance.now();
      const predictor = createPredictor(decodeModel(task.model));
      const predictions = predictor.predictBatch(shared.test.images, shared.test.n);
      parentPort!.postMessage({ type: 'evaluated', id: task.id, predictions, seconds: (performance.now() - started) / 1000 } satisfies WorkerMessage, [predictions.buffer as ArrayBuffer]);
    }
  } catch (err) {
    parentPort!.postMessage({ type: 'error', id: task.id, message: (err as Error).stack ?? String(err) } satisfies WorkerMessage);
  }
});
