/**
 * Training throughput of LeNet-300-100 on this machine's engine: examples/s of one worker, and
 * in total with 1…W workers training members side by side (the trainer's way of using cores).
 * The MLP trains on the project's WebAssembly kernels (the trainer's path on every engine but
 * native TensorFlow: train.ts defaultMlpPath); `--baseline tfjs` (the default) also trains it on
 * tfjs ops on the engine, the path before the kernels, in alternating rounds, and prints the ratio.
 * With --arch lenet5|resnet the same workers also train that CNN in the same rounds (LeNet-5 on
 * the kernels too, cnn-train.ts defaultCnnPath; ResNets on tfjs ops), and GFLOP/s
 * per worker of both are printed with their ratio (fwd + bwd ≈ 3 × forward MACs × 2 flops: nominal
 * figures, and the MLP's counts the products of zeros its kernels skip).
 *
 * Figures per worker are examples over the worker's own training time (wall), over its thread's
 * CPU time (Linux), which other work on a shared machine inflates less, and over its fastest 50
 * steps (between two loss reports), the stretch other work disturbed least. Speed-up is the
 * total examples/s of w workers over one worker's in the same round (worker counts alternate
 * too), by wall time: it needs w idle cores. Each round also measures the machine's own
 * speed-up on work that shares nothing, the ceiling for the workers' (node/bench-references.ts).
 * Usage: npm run bench:train -- [--examples 30000] [--epochs 1] [--max-workers 2] [--engine wasm]
 *        [--baseline tfjs|none] [--rounds 3] [--arch lenet5] [--cnn-examples 6000] [--cnn-path kernels|tfjs]
 *        [--depth 20] [--width 16]
 */
import { benchArgs } from '../../node/bench-args.ts';
import { median, mulAddThreads } from '../../node/bench-references.ts';
import { availableParallelism } from 'node:os';
import { loadDataset, FASHION_MNIST_DIR } from '../data.ts';
import { WorkerPool, shareClassArray, shareFloat32 } from '../pool.ts';
import type { WorkerMessage, WorkerTask } from '../worker.ts';
import { PIXEL_SCALE } from '../../lib/model/types.ts';
import { type Architecture, forwardMacs, lenet5Arch, mlpArch, resnetArch } from '../../lib/model/arch.ts';
import { cnnKernelsUnsupported } from '../../lib/model/wasm/cnn-train.ts';

const values = benchArgs('Training throughput of LeNet-300-100: npm run bench:train -- [options]', {
  examples: { type: 'string', default: '30000' },
  epochs: { type: 'string', default: '1' },
  'max-workers': { type: 'string', default: String(Math.min(2, availableParallelism())) },
  engine: { type: 'string', default: 'auto' },
  synthetic: { type: 'boolean', default: false },
  baseline: { type: 'string', default: 'tfjs' },
  arch: { type: 'string', default: 'mlp' },
  'cnn-examples': { type: 'string', default: '6000' },
  'cnn-path': { type: 'string', default: 'auto' },
  depth: { type: 'string', default: '20' },
  width: { type: 'string', default: '16' },
  rounds: { type: 'string', default: '3' },
});
const nTrain = Number(values.examples);
const rounds = Number(values.rounds);
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a whole number ≥ 1, got '${values.rounds}'`);
if (values.baseline !== 'tfjs' && values.baseline !== 'none') throw new Error(`--baseline must be tfjs or none, got '${values.baseline}'`);
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
if (!['auto', 'kernels', 'tfjs'].includes(values['cnn-path'])) throw new Error(`--cnn-path must be auto, kernels or tfjs, got '${values['cnn-path']}'`);
/** Where the CNN trains: the trainer's choice (cnn-train.ts defaultCnnPath) unless --cnn-path says. */
const cnnPath = values['cnn-path'] === 'auto' ? undefined : values['cnn-path'] as 'kernels' | 'tfjs';
// The CNN trains on the first --cnn-examples images per epoch (a shorter run: it is slower per example).
const cnnN = Math.min(Number(values['cnn-examples']), data.train.n);
const cnnSpec = (member: number) => ({
  level: 'bench', member, seed: 2000 + member, arch: cnnArch!, sparsity: 0.9,
  epochs: Number(values.epochs), batchSize: 128, learningRate: 1e-3, pruning: { begin: 0.1, end: 0.7, frequency: 50 },
});
const flopsPerExample = (arch: Architecture) => forwardMacs(arch) * 3 * 2;
const mlpFlops = flopsPerExample(mlpArch(shape, data.numClasses, [300, 100]));

type Task = Omit<Extract<WorkerTask, { type: 'train' }>, 'id'> | Omit<Extract<WorkerTask, { type: 'train-cnn' }>, 'id'>;
type Trained = Extract<WorkerMessage, { type: 'trained' | 'trained-cnn' }>;
/** One round of w members side by side; per-worker figures are means over the workers. */
interface Round { perWorker: number; perCpu: number | null; fastest: number | null; total: number }
const paths = [
  { name: 'kernels', task: (i: number): Task => ({ type: 'train', spec: spec(i), path: 'kernels' }) },
  ...(values.baseline === 'tfjs' ? [{ name: 'tfjs', task: (i: number): Task => ({ type: 'train', spec: spec(i), path: 'tfjs' }) }] : []),
  ...(cnnArch ? [{ name: cnnArch.name, task: (i: number): Task => ({ type: 'train-cnn', spec: cnnSpec(i), n: cnnN, path: cnnPath }) }] : []),
];

async function round(pool: WorkerPool, w: number, task: (i: number) => Task): Promise<Round> {
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: w }, (_, i) => pool.run(task(i)))) as Trained[];
  const wall = (performance.now() - started) / 1000;
  const examples = results.reduce((a, r) => a + r.result.examples, 0);
  const cpus = results.map((r) => r.timing.cpuSeconds), fastest = results.map((r) => r.timing.fastest);
  return {
    perWorker: results.reduce((a, r) => a + r.result.examples / r.result.seconds, 0) / w,
    perCpu: cpus.every((c) => c !== null && c > 0) ? results.reduce((a, r, i) => a + r.result.examples / cpus[i]!, 0) / w : null,
    fastest: fastest.every((x) => x !== null) ? fastest.reduce((a, x) => a + x!, 0) / w : null,
    total: examples / wall,
  };
}

/** results[path][w − 1] = that path's rounds with w workers. */
const W = Number(values['max-workers']);
const results = paths.map(() => Array.from({ length: W }, () => [] as Round[]));
// One pool for every worker count (a round with fewer workers leaves the others idle), so that
// worker counts alternate too and each round's speed-up compares runs timed back to back.
const pool = new WorkerPool(W, shared);
// Warm up each worker (engine init, wasm compile and tier-up, JIT) outside the timing.
await Promise.all(Array.from({ length: W }, (_, i) => pool.run({ type: 'train', spec: { ...spec(i), epochs: 1, dims: [784, 16, 10] }, path: 'kernels' })));
if (values.baseline === 'tfjs') await Promise.all(Array.from({ length: W }, (_, i) => pool.run({ type: 'train', spec: { ...spec(i), epochs: 1, dims: [784, 16, 10] }, path: 'tfjs' })));
if (cnnArch) await Promise.all(Array.from({ length: W }, (_, i) => pool.run({ type: 'train-cnn', spec: cnnSpec(i), n: 512, path: cnnPath })));
// Paths and worker counts alternate round by round, so that drifts in the machine's speed
// (large on a shared machine) fall on all alike; medians are printed.
// Each round also measures the machine's own speed-up from 1 to W threads on work that shares
// nothing (node/bench-references.ts): the most that W workers can give at that moment.
const machine = W > 1 ? await mulAddThreads(W) : null;
const machineSpeedUps: number[] = [];
for (let r = 0; r < rounds; r++) {
  for (let w = 1; w <= W; w++) for (let p = 0; p < paths.length; p++) results[p][w - 1].push(await round(pool, w, paths[p].task));
  if (machine) machineSpeedUps.push(await machine.speedUp());
}
await machine?.close();
const engine = pool.engine?.backend ?? '?';
await pool.close();

const fmt = (x: number | null, width: number, digits = 0) => (x === null ? '—' : x.toFixed(digits)).padStart(width);
const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
console.log(`engine: ${engine}; LeNet-300-100, batch 128, pruning to 90 % on, ${nTrain} examples × ${values.epochs} epoch(s) per member` +
  (cnnArch ? `; ${cnnArch.name} on ${cnnN}` : '') + `; medians of ${rounds} alternating round(s)`);
console.log('path     workers  examples/s per worker  per CPU-second  fastest 50 steps  examples/s total  speed-up (each round\'s)');
paths.forEach((path, p) => {
  results[p].forEach((rs, i) => {
    const perCpu = rs.every((r) => r.perCpu !== null) ? median(rs.map((r) => r.perCpu!)) : null;
    const fastest = rs.every((r) => r.fastest !== null) ? median(rs.map((r) => r.fastest!)) : null;
    const speedUps = rs.map((r, k) => r.total / results[p][0][k].total);
    console.log(`${path.name.padEnd(7)}  ${String(i + 1).padStart(7)}  ${fmt(median(rs.map((r) => r.perWorker)), 21)}  ${fmt(perCpu, 14)}  ${fmt(fastest, 16)}  ` +
      `${fmt(median(rs.map((r) => r.total)), 16)}  ${fmt(median(speedUps), 7, 2)}×` + (i > 0 ? ` (${list(speedUps)})` : ''));
  });
});

if (machine) {
  console.log(`the machine's own speed-up from 1 to ${W} threads, same rounds (a register-only float32 multiply + add loop per thread, nothing shared): ` +
    `${median(machineSpeedUps).toFixed(2)}× (${list(machineSpeedUps)})`);
}

if (values.baseline === 'tfjs') {
  // Each round's ratio of the two MLP paths, timed back to back.
  const ratios = (key: 'perWorker' | 'perCpu', w: number) => results[0][w].map((r, i) => (r[key] ?? NaN) / (results[1][w][i][key] ?? NaN));
  console.log('\nkernels / tfjs, examples/s per worker (each round\'s ratio):');
  results[0].forEach((_, w) => {
    const wall = ratios('perWorker', w), cpu = ratios('perCpu', w);
    console.log(`${String(w + 1).padStart(7)} worker(s): ${median(wall).toFixed(2)}× (${list(wall)})` +
      (cpu.every(Number.isFinite) ? `; per CPU-second ${median(cpu).toFixed(2)}× (${list(cpu)})` : ''));
  });
}

if (cnnArch) {
  const c = paths.length - 1;
  const gf = (perWorker: number, flops: number) => (perWorker * flops) / 1e9;
  console.log(`\n${cnnArch.name}${cnnArch.name === 'resnet' ? `-${values.depth}` : ''} ${shape.join('×')}: ${(forwardMacs(cnnArch) / 1e6).toFixed(3)} M MACs forward ` +
    `vs LeNet-300-100 ${(mlpFlops / 6e6).toFixed(3)} M; ${cnnN} examples × ${values.epochs} epoch(s) per CNN member, batch 128, pruning to 90 %; ` +
    `${cnnPath ?? (engine === 'tensorflow' || cnnKernelsUnsupported(cnnArch) ? 'tfjs' : 'kernels')} path`);
  console.log('workers  path    examples/s per worker  GFLOP/s per worker  CNN/MLP GFLOP/s');
  results[0].forEach((mlpRounds, i) => {
    const cnnRounds = results[c][i];
    const ratios = cnnRounds.map((r, k) => (r.perWorker * flopsPerExample(cnnArch)) / (mlpRounds[k].perWorker * mlpFlops));
    const mlp = median(mlpRounds.map((r) => r.perWorker)), cnn = median(cnnRounds.map((r) => r.perWorker));
    console.log(`${String(i + 1).padStart(7)}  mlp     ${Math.round(mlp).toString().padStart(21)}  ${gf(mlp, mlpFlops).toFixed(3).padStart(18)}`);
    console.log(`${String(i + 1).padStart(7)}  ${cnnArch.name.padEnd(6)}  ${Math.round(cnn).toString().padStart(21)}  ${gf(cnn, flopsPerExample(cnnArch)).toFixed(3).padStart(18)}  ` +
      `${median(ratios).toFixed(2).padStart(15)}  (rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')})`);
  });
}
