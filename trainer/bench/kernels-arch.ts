/**
 * bench:kernels --arch lenet5|resnet: inference speed of a random CNN (28×28×1, 10 classes) per
 * kind and sparsity, the JS reference kernels and the wasm path side by side in one process.
 * Only speed is meaningful (random weights, randomly pruned per kernel).
 */
import { type Architecture, createPredictor, encodeModel, lenet5Arch, resnetArch, toArchModel, type CompactModel, type ModelKind } from '../../lib/model/index.ts';
import { randomArchWeights, randomImages } from '../../lib/model/testing.ts';
import { timed } from './timed.ts';

export function archBench(name: 'lenet5' | 'resnet', images: number, seed: number, data?: { xs: Float32Array; n: number }): void {
  const arch: Architecture = name === 'lenet5' ? lenet5Arch([28, 28, 1], 10) : resnetArch([28, 28, 1], 10, { depth: 20 });
  const len = 28 * 28;
  const n = Math.min(data?.n ?? images, name === 'lenet5' ? 300 : 60);
  const xs = data ? data.xs.subarray(0, n * len) : randomImages(n, len, seed + 1);
  const calibration = xs.subarray(0, Math.min(100, n) * len);
  console.log(`${name} (${arch.ops.length} ops), ${n} images (${data ? 'IDX' : 'synthetic'}), seed ${seed}, Node ${process.version}; machine shared, figures per CPU-second of this process`);
  const minMs = 300;
  const rows: string[][] = [];
  let denseJs = 0, denseWasm = 0;
  const sparse: Record<number, { js: number; wasm: number }> = {};
  const run = (kind: ModelKind, sparsity: number, model: CompactModel, ref?: ArrayLike<number>) => {
    const js = createPredictor(model, { kernels: 'js' });
    const auto = createPredictor(model);
    const jsRate = (n * 1e6) / timed(() => js.predictBatch(xs, n), minMs).cpuUs;
    const autoRate = auto.kernels === 'wasm' ? (n * 1e6) / timed(() => auto.predictBatch(xs, n), minMs).cpuUs : NaN;
    const labels = auto.predictBatch(xs, n);
    const agree = ref ? [...labels].filter((c, k) => c === ref[k]).length / n : 1;
    rows.push([kind, `${Math.round(sparsity * 100)} %`, (encodeModel(model).length / 1024).toFixed(1), (auto.memoryBytes / 1024).toFixed(1),
      jsRate.toFixed(0), Number.isNaN(autoRate) ? 'JS only' : autoRate.toFixed(0), Number.isNaN(autoRate) ? '' : `${(autoRate / jsRate).toFixed(1)}×`, `${(100 * agree).toFixed(1)} %`]);
    auto.release();
    return { js: jsRate, wasm: autoRate, labels };
  };
  let denseLabels: ArrayLike<number> | undefined;
  for (const s of [0, 0.5, 0.9, 0.99]) {
    const w = randomArchWeights(arch, seed, s);
    const d = run('dense-f32', s, toArchModel(w, 'dense-f32'));
    sparse[s] = run('sparse-f32', s, toArchModel(w, 'sparse-f32'), d.labels);
    if (s === 0) { denseLabels = d.labels; denseJs = d.js; denseWasm = d.wasm; }
  }
  const w = randomArchWeights(arch, seed, 0);
  run('f16', 0, toArchModel(w, 'f16'), denseLabels);
  const dyn = run('int8-dynamic', 0, toArchModel(w, 'int8-dynamic'), denseLabels);
  const full = run('int8-full', 0, toArchModel(w, 'int8-full', { calibration, n: Math.min(100, n) }), denseLabels);
  const head = ['kind', 'sparsity', 'file KiB', 'loaded KiB', 'JS img/s', 'wasm img/s', 'wasm/JS', 'agrees w/ dense'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => `| ${cells.map((v, c) => (c < 2 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((wd, c) => (c < 2 ? `${'-'.repeat(wd + 1)}-` : `${'-'.repeat(wd + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  const ratio = (k: 'js' | 'wasm') => [0.5, 0.9, 0.99].map((s) => (sparse[s][k] / sparse[0][k]).toFixed(1)).join(' / ');
  console.log(`sparse 50/90/99 % vs sparse 0 %, images/s: JS ${ratio('js')}×, wasm ${ratio('wasm')}×`);
  console.log(`int8 (JS kernels) vs dense f32 JS: dynamic ${(dyn.js / denseJs).toFixed(2)}×, full ${(full.js / denseJs).toFixed(2)}×; dense wasm/JS ${(denseWasm / denseJs).toFixed(1)}×`);
  console.log('int8 kinds of architecture models run on the JS kernels only (no wasm int8 conv path yet).');
}
