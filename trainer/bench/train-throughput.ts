/**
 * Training throughput of LeNet-300-100 on this machine's engine: examples/s of one worker, and
 * in total with 1…W workers training members side by side (the trainer's way of using cores).
 * Usage: npm run bench:train -- [--examples 30000] [--epochs 1] [--max-workers 2] [--engine wasm]
 */
import { benchArgs } from '../../node/bench-args.ts';
import { availableParallelism } from 'node:os';
import { loadDataset, FASHION_MNIST_DIR } from '../data.ts';
import { WorkerPool, shareClassArray, shareFloat32 } from '../pool.ts';
import type { WorkerMessage } from '../worker.ts';
import { PIXEL_SCALE } from '../../lib/model/types.ts';

const values = benchArgs('Training throughput of LeNet-300-100: npm run bench:train -- [options]', {
  examples: { type: 'string', default: '30000' },
  epochs: { type: 'string', default: '1' },
  'max-workers': { type: 'string', default: String(Math.min(2, availableParallelism())) },
  engine: { type: 'string', default: 'auto' },
  synthetic: { type: 'boolean', default: false },
});
const nTrain = Number(values.examples);
const data = await (values.synthetic
  ? loadDataset({ kind: 'synthetic', name: 'synthetic', seed: 1, train: nTrain, test: 100, classes: 10 })
  : loadDataset({ kind: 'idx', name: 'fashion-mnist', dir: FASHION_MNIST_DIR, trainLimit: nTrain, testLimit: 100 }));
const shared = {
  engine: values.engine as 'auto',
  train: { images: shareFloat32(data.train.images, PIXEL_SCALE), labels: shareClassArray(data.train.labels), n: data.train.n },
  test: { images: shareFloat32(data.test.images, PIXEL_SCALE), n: data.test.n },
};
const spec = (member: number) => ({
  level: 'bench', member, seed: 1000 + member, dims: [784, 300, 100, 10], sparsity: 0.9,
  epochs: Number(values.epochs), batchSize: 128, learningRate: 1e-3, pruning: { begin: 0.1, end: 0.7, frequency: 50 },
});

const rows: { workers: number; perWorker: number; total: number }[] = [];
let engine = '';
for (let w = 1; w <= Number(values['max-workers']); w++) {
  const pool = new WorkerPool(w, shared);
  // Warm up each worker (engine init, wasm compile) outside the timing.
  await Promise.all(Array.from({ length: w }, (_, i) => pool.run({ type: 'train', spec: { ...spec(i), epochs: 1, dims: [784, 16, 10] } })));
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: w }, (_, i) => pool.run({ type: 'train', spec: spec(i) }))) as Extract<WorkerMessage, { type: 'trained' }>[];
  const wall = (performance.now() - started) / 1000;
  engine = pool.engine?.backend ?? '?';
  await pool.close();
  const examples = results.reduce((a, r) => a + r.result.examples, 0);
  const perWorker = results.reduce((a, r) => a + r.result.examples / r.result.seconds, 0) / w;
  rows.push({ workers: w, perWorker, total: examples / wall });
}
console.log(`engine: ${engine}; LeNet-300-100, batch 128, pruning to 90 % on, ${nTrain} examples × ${values.epochs} epoch(s) per member`);
console.log('workers  examples/s per worker  examples/s total  speed-up');
for (const r of rows) {
  console.log(`${String(r.workers).padStart(7)}  ${Math.round(r.perWorker).toString().padStart(21)}  ${Math.round(r.total).toString().padStart(16)}  ${(r.total / rows[0].total).toFixed(2).padStart(8)}×`);
}
