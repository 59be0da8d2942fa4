/**
 * Training throughput of LeNet-300-100 on this machine's engine: examples/s of one worker, and
 * in total with 1…W workers training members side by side (the trainer's way of using cores).
 * With --arch lenet5|resnet the same workers also train that CNN in the same run, and GFLOP/s per
 * worker of both paths are printed with their ratio (fwd + bwd ≈ 3 × forward MACs × 2 flops).
 * Usage: npm run bench:train -- [--examples 30000] [--epochs 1] [--max-workers 2] [--engine wasm]
 *        [--arch lenet5] [--cnn-examples 6000] [--depth 20] [--width 16] [--rounds 3]
 * With --arch, MLP and CNN alternate for --rounds rounds (medians and each round's ratio printed).
 */
import { benchArgs } from '../../node/bench-args.ts';
import { availableParallelism } from 'node:os';
import { loadDataset, FASHION_MNIST_DIR } from '../data.ts';
import { WorkerPool, shareClassArray, shareFloat32 } from '../pool.ts';
import type { WorkerMessage } from '../worker.ts';
import { PIXEL_SCALE } from '../../lib/model/types.ts';
import { type Architecture, forwardMacs, lenet5Arch, mlpArch, resnetArch } from '../../lib/model/arch.ts';

const values = benchArgs('Training throughput of LeNet-300-100: npm run bench:train -- [options]', {
  examples: { type: 'string', default: '30000' },
  epochs: { type: 'string', default: '1' },
  'max-workers': { type: 'string', default: String(Math.min(2, availableParallelism())) },
  engine: { type: 'string', default: 'auto' },
  synthetic: { type: 'boolean', default: false },
  arch: { type: 'string', default: 'mlp' },
  'cnn-examples': { type: 'string', default: '6000' },
  depth: { type: 'string', default: '20' },
  width: { type: 'string', default: '16' },
  rounds: { type: 'string', default: '3' },
});
const nTrain = Number(values.examples);
const rounds = Number(values.rounds);
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a whole number ≥ 1, got '${values.rounds}'`);
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

const shape: [number, number, number] = [data.rows, data.cols, data.channels];
const cnnArch: Architecture | null = values.arch === 'mlp' ? null
  : values.arch === 'lenet5' ? lenet5Arch(shape, data.numClasses)
  : values.arch === 'resnet' ? resnetArch(shape, data.numClasses, { depth: Number(values.depth), width: Number(values.width) })
  : (() => { throw new Error(`--arch must be mlp, lenet5 or resnet, got '${values.arch}'`); })();
// The CNN trains on the first --cnn-examples images per epoch (a shorter run: it is slower per example).
const cnnN = Math.min(Number(values['cnn-examples']), data.train.n);
const cnnSpec = (member: number) => ({
  level: 'bench', member, seed: 2000 + member, arch: cnnArch!, sparsity: 0.9,
  epochs: Number(values.epochs), batchSize: 128, learningRate: 1e-3, pruning: { begin: 0.1, end: 0.7, frequency: 50 },
});
const flopsPerExample = (arch: Architecture) => forwardMacs(arch) * 3 * 2;
const mlpFlops = flopsPerExample(mlpArch(shape, data.numClasses, [300, 100]));
const cnnRows: { workers: number; perWorker: number; total: number }[] = [];

const rows: { workers: number; perWorker: number; total: number }[] = [];
/** Per worker count: each round's CNN/MLP GFLOP/s ratio (the two timed back to back). */
const roundRatios: number[][] = [];
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
let engine = '';
for (let w = 1; w <= Number(values['max-workers']); w++) {
  const pool = new WorkerPool(w, shared);
  // Warm up each worker (engine init, wasm compile) outside the timing.
  await Promise.all(Array.from({ length: w }, (_, i) => pool.run({ type: 'train', spec: { ...spec(i), epochs: 1, dims: [784, 16, 10] } })));
  // And the CNN path (JIT of the JS loops, conv kernels) on a few batches.
  if (cnnArch) await Promise.all(Array.from({ length: w }, (_, i) => pool.run({ type: 'train-cnn', spec: cnnSpec(i), n: 512 })));
  // With a CNN, the two paths alternate for --rounds rounds, so that drifts in the machine's
  // speed (large on a shared machine) fall on both alike; medians are printed.
  const mlpRounds: { perWorker: number; total: number }[] = [];
  const cnnRounds: { perWorker: number; total: number }[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < (cnnArch ? rounds : 1); round++) {
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: w }, (_, i) => pool.run({ type: 'train', spec: spec(i) }))) as Extract<WorkerMessage, { type: 'trained' }>[];
    const wall = (performance.now() - started) / 1000;
    engine = pool.engine?.backend ?? '?';
    mlpRounds.push({
      perWorker: results.reduce((a, r) => a + r.result.examples / r.result.seconds, 0) / w,
      total: results.reduce((a, r) => a + r.result.examples, 0) / wall,
    });
    if (!cnnArch) continue;
    const t0 = performance.now();
    const cnn = await Promise.all(Array.from({ length: w }, (_, i) => pool.run({
      type: 'train-cnn', spec: cnnSpec(i), n: cnnN,
    }))) as Extract<WorkerMessage, { type: 'trained-cnn' }>[];
    const cnnWall = (performance.now() - t0) / 1000;
    cnnRounds.push({
      perWorker: cnn.reduce((a, r) => a + r.result.examples / r.result.seconds, 0) / w,
      total: cnn.reduce((a, r) => a + r.result.examples, 0) / cnnWall,
    });
    ratios.push((cnnRounds[round].perWorker * flopsPerExample(cnnArch)) / (mlpRounds[round].perWorker * mlpFlops));
  }
  rows.push({ workers: w, perWorker: median(mlpRounds.map((r) => r.perWorker)), total: median(mlpRounds.map((r) => r.total)) });
  if (cnnArch) {
    cnnRows.push({ workers: w, perWorker: median(cnnRounds.map((r) => r.perWorker)), total: median(cnnRounds.map((r) => r.total)) });
    roundRatios.push(ratios);
  }
  await pool.close();
}
console.log(`engine: ${engine}; LeNet-300-100, batch 128, pruning to 90 % on, ${nTrain} examples × ${values.epochs} epoch(s) per member`);
console.log('workers  examples/s per worker  examples/s total  speed-up');
for (const r of rows) {
  console.log(`${String(r.workers).padStart(7)}  ${Math.round(r.perWorker).toString().padStart(21)}  ${Math.round(r.total).toString().padStart(16)}  ${(r.total / rows[0].total).toFixed(2).padStart(8)}×`);
}

if (cnnArch) {
  const gf = (perWorker: number, flops: number) => (perWorker * flops) / 1e9;
  console.log(`\n${cnnArch.name}${cnnArch.name === 'resnet' ? `-${values.depth}` : ''} ${shape.join('×')}: ${(forwardMacs(cnnArch) / 1e6).toFixed(3)} M MACs forward ` +
    `vs LeNet-300-100 ${(mlpFlops / 6e6).toFixed(3)} M; ${cnnN} examples × ${values.epochs} epoch(s) per CNN member, batch 128, pruning to 90 %`);
  console.log(`${rounds} alternating round(s) per worker count; medians, and each round's ratio`);
  console.log('workers  path    examples/s per worker  GFLOP/s per worker  CNN/MLP GFLOP/s');
  rows.forEach((r, i) => {
    const c = cnnRows[i];
    const mlpG = gf(r.perWorker, mlpFlops), cnnG = gf(c.perWorker, flopsPerExample(cnnArch));
    console.log(`${String(r.workers).padStart(7)}  mlp     ${Math.round(r.perWorker).toString().padStart(21)}  ${mlpG.toFixed(3).padStart(18)}`);
    console.log(`${String(r.workers).padStart(7)}  ${cnnArch.name.padEnd(6)}  ${Math.round(c.perWorker).toString().padStart(21)}  ${cnnG.toFixed(3).padStart(18)}  ` +
      `${median(roundRatios[i]).toFixed(2).padStart(15)}  (rounds: ${roundRatios[i].map((x) => x.toFixed(2)).join(', ')})`);
  });
}
