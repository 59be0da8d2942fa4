/**
 * Inference speed of the lib/model kernels on LeNet-300-100 (784-300-100-10), the JS reference
 * kernels and the WebAssembly SIMD kernels side by side in one process: batch images/s, and
 * one image through one model. dense-f32 vs sparse-f32 at 0/50/90/99 % magnitude sparsity,
 * then f16, int8-dynamic and int8-full of the unpruned net.
 *
 *   npx tsx trainer/bench/kernels.ts [--images N] [--idx path/to/images-idx3-ubyte[.gz]] [--seed S] [--rounds R] [--arch mlp|lenet5|resnet]
 *
 * The wasm figures are medians of R interleaved rounds (default 7) over all the models, so that
 * their ratios (int8 and sparse against dense) hold on a loaded machine. Each round also measures
 * the engine's float32 multiply + add ceiling (node/bench-references.ts), which the dense batch
 * is printed against.
 *
 * --arch lenet5 / resnet: the same table for a random LeNet-5 (28×28×1) or ResNet-20 (28×28×1)
 * (trainer/bench/kernels-arch.ts).
 *
 * The net is random (He init), so only speed and size are meaningful, plus each variant's
 * argmax agreement with the dense net it came from. Images are synthetic blobs with about half
 * the pixels exactly 0, like Fashion-MNIST, unless --idx points at real IDX images.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import {
  createPredictor,
  encodeModel,
  quantizeFloat16,
  quantizeInt8Dynamic,
  quantizeInt8Full,
  toDenseModel,
  toSparseModel,
  type CompactModel,
  type MlpWeights,
  type Predictor,
} from '../../lib/model/index.ts';
import { PIXEL_SCALE } from '../../lib/model/types.ts';
import { denseLayer, storeActivation } from '../../lib/model/kernels.ts';
import { mulberry32 } from '../../lib/random.ts';
import { benchArgs } from '../../node/bench-args.ts';
import { installNodeKernels } from '../../node/wasm-kernels.ts';
import { median, mulAddPeak } from '../../node/bench-references.ts';
import { timed } from './timed.ts';

const DIMS = [784, 300, 100, 10];
const SPARSITIES = [0, 0.5, 0.9, 0.99];
const WARMUP_IMAGES = 300;
const CALIBRATION_IMAGES = 100;

/** --images, --idx, --seed (with --help), checked up front. */
function parseArgs(): { images: number; idx?: string; seed: number; arch: string; rounds: number } {
  const v = benchArgs('Inference speed per model kind and sparsity, JS and wasm kernels side by side: npm run bench:kernels -- [options]', {
    images: { type: 'string', default: '2000' },
    idx: { type: 'string' },
    seed: { type: 'string', default: '1' },
    arch: { type: 'string', default: 'mlp' },
    rounds: { type: 'string', default: '7' },
  });
  if (!['mlp', 'lenet5', 'resnet'].includes(v.arch)) throw new Error(`--arch must be mlp, lenet5 or resnet, got ${v.arch}`);
  const images = Number(v.images);
  const seed = Number(v.seed);
  if (!Number.isInteger(images) || images < 1) throw new Error(`--images must be a positive integer, got ${v.images}`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${v.seed}`);
  const rounds = Number(v.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${v.rounds}`);
  return { images, idx: v.idx || undefined, seed, arch: v.arch, rounds };
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function randomNet(dims: number[], rand: () => number): MlpWeights {
  const layers = dims.slice(1).map((outDim, l) => {
    const inDim = dims[l];
    const sd = Math.sqrt(2 / inDim);
    const weights = Float32Array.from({ length: inDim * outDim }, () => gaussian(rand) * sd);
    const bias = Float32Array.from({ length: outDim }, () => 0.01 * gaussian(rand));
    return { inDim, outDim, weights, bias };
  });
  return { dims, layers };
}

/** Keeps the round(n(1 − s)) largest |w| of each weight tensor (biases untouched). */
function pruneByMagnitude(w: MlpWeights, sparsity: number): MlpWeights {
  const layers = w.layers.map((layer) => {
    const n = layer.weights.length;
    const keep = Math.round(n * (1 - sparsity));
    const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => Math.abs(layer.weights[b]) - Math.abs(layer.weights[a]));
    const weights = new Float32Array(n);
    for (let r = 0; r < keep; r++) weights[order[r]] = layer.weights[order[r]];
    return { ...layer, weights };
  });
  return { dims: w.dims, layers };
}

/** Blobs: an ellipse of random intensities on a zero background, ~half the pixels lit. */
function syntheticImages(n: number, rand: () => number): Float32Array {
  const xs = new Float32Array(n * 784);
  for (let k = 0; k < n; k++) {
    const cx = 10 + rand() * 8, cy = 10 + rand() * 8;
    const rx = 7 + rand() * 6, ry = 7 + rand() * 6;
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
        if (d < 1) xs[k * 784 + y * 28 + x] = Math.round(rand() * 255) * PIXEL_SCALE;
      }
    }
  }
  return xs;
}

function idxImages(path: string, n: number): { xs: Float32Array; n: number } {
  let bytes: Uint8Array = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0) !== 0x803) throw new Error(`${path} is not an IDX3 ubyte image file`);
  const count = Math.min(n, dv.getUint32(4));
  const size = dv.getUint32(8) * dv.getUint32(12);
  if (size !== 784) throw new Error(`${path} has ${size}-pixel images, this bench expects 784`);
  const xs = new Float32Array(count * size);
  for (let k = 0; k < xs.length; k++) xs[k] = bytes[16 + k] * PIXEL_SCALE;
  return { xs, n: count };
}

interface Measured { js: number; wasm: number; singleUs: number; fileBytes: number; loadedBytes: number; labels: ArrayLike<number>; agreement: number; wasmVsJs: number }

/** A model to measure: its predictors, labels and the JS figure; the wasm figures are filled in by timeRounds. */
interface Subject { model: CompactModel; wasm: Predictor; result: Measured }

function prepare(model: CompactModel, xs: Float32Array, n: number, minMs: number, reference?: ArrayLike<number>): Subject {
  const js = createPredictor(model, { kernels: 'js' });
  const wasm = createPredictor(model);
  const jsLabels = js.predictBatch(xs, n);
  const labels = wasm.predictBatch(xs, n);
  const jsBatch = timed(() => js.predictBatch(xs, n), minMs);
  let agree = 0, same = 0;
  for (let k = 0; k < n; k++) {
    if (reference && labels[k] === reference[k]) agree++;
    if (labels[k] === jsLabels[k]) same++;
  }
  return {
    model, wasm,
    result: {
      js: (n * 1e6) / jsBatch.cpuUs, wasm: 0, singleUs: 0, fileBytes: encodeModel(model).length, loadedBytes: wasm.memoryBytes, labels,
      agreement: reference ? agree / n : 1, wasmVsJs: same / n,
    },
  };
}

/**
 * The wasm figures of every subject, measured in interleaved rounds (each round times every
 * subject once, in a rotated order) and taken as medians, so that a burst of other load on the
 * machine touches all of them alike and the ratios between kinds hold.
 */
function timeRounds(subjects: Subject[], xs: Float32Array, n: number, minMs: number, rounds: number, peak: (ms: number) => number): number {
  const inDim = DIMS[0];
  const out = new Float32Array(DIMS[DIMS.length - 1]);
  const single = Math.min(n, 200);
  const per = Math.max(5, minMs / rounds);
  const batch = subjects.map(() => [] as number[]), one = subjects.map(() => [] as number[]), peaks: number[] = [];
  for (let r = 0; r < rounds; r++) {
    peaks.push(peak(per));
    for (let q = 0; q < subjects.length; q++) {
      const s = (q + r) % subjects.length, p = subjects[s].wasm;
      batch[s].push(timed(() => p.predictBatch(xs, n), per).cpuUs);
      one[s].push(timed(() => { for (let k = 0; k < single; k++) p.logits(xs.subarray(k * inDim, (k + 1) * inDim), out); }, per).cpuUs / single);
    }
  }
  subjects.forEach((s, i) => {
    s.result.wasm = (n * 1e6) / median(batch[i]);
    s.result.singleUs = median(one[i]);
    s.wasm.release();
  });
  return median(peaks);
}

/**
 * Multiply-adds per image that the kernels perform on the dense net: per layer, the image's
 * nonzero inputs × outputs (they skip zero inputs), the activations from the JS reference kernels.
 */
function multiplyAddsDone(net: MlpWeights, xs: Float32Array, n: number): number {
  const width = Math.max(...DIMS);
  const acc = new Float64Array(width), act = [new Float32Array(width), new Float32Array(width)];
  let total = 0;
  for (let k = 0; k < n; k++) {
    let x = xs, xOff = k * DIMS[0];
    net.layers.forEach(({ inDim, outDim, weights, bias }, l) => {
      for (let i = 0; i < inDim; i++) if (x[xOff + i] !== 0) total += outDim;
      denseLayer(x, xOff, inDim, outDim, weights, bias, acc);
      storeActivation(acc, act[l % 2], outDim, l < net.layers.length - 1);
      x = act[l % 2];
      xOff = 0;
    });
  }
  return total / n;
}

async function main(): Promise<void> {
  const args = parseArgs();
  const kernels = await installNodeKernels();
  if (args.arch !== 'mlp') {
    const { archBench } = await import('./kernels-arch.ts');
    return archBench(args.arch as 'lenet5' | 'resnet', args.images, args.seed, args.idx ? idxImages(args.idx, args.images) : undefined);
  }
  const rand = mulberry32(args.seed);
  const net = randomNet(DIMS, rand);
  const data = args.idx ? idxImages(args.idx, args.images) : { xs: syntheticImages(args.images, rand), n: args.images };
  const zeros = data.xs.reduce((z, v) => z + (v === 0 ? 1 : 0), 0) / data.xs.length;
  const minMs = Math.max(20, Math.min(400, data.n / 5));
  console.log(`${DIMS.join('-')}, ${data.n} images (${args.idx ? 'IDX' : 'synthetic'}, ${(100 * zeros).toFixed(0)} % zero pixels), seed ${args.seed}, Node ${process.version}`);
  console.log('images/s per CPU-second of this process (user + system time), so that other load on the machine counts less; one core.');

  const rows: string[][] = [];
  const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
  const row = (kind: string, sparsity: number, r: Measured) =>
    rows.push([kind, `${Math.round(100 * sparsity)} %`, (r.fileBytes / 1024).toFixed(1), (r.loadedBytes / 1024).toFixed(1), fmt(r.js), fmt(r.wasm),
      `${(r.wasm / r.js).toFixed(1)}×`, r.singleUs.toFixed(1), `${(100 * r.agreement).toFixed(1)} %`, `${(100 * r.wasmVsJs).toFixed(2)} %`]);

  // Labels and the JS figure per model first, then the wasm figures of all of them in interleaved rounds.
  const subjects: [string, number, Subject][] = [];
  let denseLabels: ArrayLike<number> | undefined;
  for (const s of SPARSITIES) {
    const pruned = s > 0 ? pruneByMagnitude(net, s) : net;
    const dense = prepare(toDenseModel(pruned), data.xs, data.n, minMs);
    subjects.push(['dense-f32', s, dense], ['sparse-f32', s, prepare(toSparseModel(pruned), data.xs, data.n, minMs, dense.result.labels)]);
    if (s === 0) denseLabels = dense.result.labels;
  }
  const calibration = data.xs.subarray(0, Math.min(CALIBRATION_IMAGES, data.n) * DIMS[0]);
  subjects.push(['f16', 0, prepare(quantizeFloat16(net), data.xs, data.n, minMs, denseLabels)]);
  subjects.push(['int8-dynamic', 0, prepare(quantizeInt8Dynamic(net), data.xs, data.n, minMs, denseLabels)]);
  subjects.push(['int8-full', 0, prepare(quantizeInt8Full(net, calibration, Math.min(CALIBRATION_IMAGES, data.n)), data.xs, data.n, minMs, denseLabels)]);
  const peak = timeRounds(subjects.map(([, , s]) => s), data.xs, data.n, 2 * minMs, args.rounds, await mulAddPeak(kernels));
  for (const [kind, s, subject] of subjects) row(kind, s, subject.result);
  const get = (kind: string, s = 0) => subjects.find(([k, sp]) => k === kind && sp === s)![2].result;
  const dyn = get('int8-dynamic'), full = get('int8-full');

  const head = ['kind', 'sparsity', 'file KiB', 'loaded KiB', 'JS img/s', 'wasm img/s', 'wasm/JS', 'wasm µs, 1 image', 'agrees w/ dense', 'wasm = JS argmax'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => `| ${cells.map((v, c) => (c < 2 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w, c) => (c < 2 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log('agreement: argmax equal to the dense-f32 net of the same sparsity (quantized rows: the 0 % net); int8 wasm kernels are bit-exact with JS');
  // Speed against the unpruned dense-f32 net (images/s ratio; for one image, time ratio inverted).
  const d = get('dense-f32');
  const vs = (r: Measured) => `${(r.wasm / d.wasm).toFixed(2)}× batch, ${(d.singleUs / r.singleUs).toFixed(2)}× one image`;
  console.log(`speed vs dense-f32 0 % (wasm): int8-dynamic ${vs(dyn)}; int8-full ${vs(full)}; ` +
    `sparse-f32 50 / 90 / 99 %: ${[0.5, 0.9, 0.99].map((s) => (get('sparse-f32', s).wasm / d.wasm).toFixed(2)).join(' / ')}× batch, ` +
    `${[0.5, 0.9, 0.99].map((s) => (d.singleUs / get('sparse-f32', s).singleUs).toFixed(2)).join(' / ')}× one image`);
  // The dense batch against the engine's ceiling (node/bench-references.ts), measured in the same rounds.
  const macs = multiplyAddsDone(net, data.xs, data.n), all = DIMS.slice(1).reduce((a, o, l) => a + DIMS[l] * o, 0);
  const rate = (d.wasm * macs) / 1e9;
  console.log(`dense-f32 0 % batch against the engine's ceiling: ${Math.round(macs).toLocaleString('en-US')} multiply-adds per image done ` +
    `(zero inputs skipped; ${all.toLocaleString('en-US')} weights) → ${rate.toFixed(1)} GMAC/s; float32 multiply + add on registers only, no FMA (wasm SIMD has none), ` +
    `median of the rounds: ${peak.toFixed(1)} GMAC/s → ${(100 * rate / peak).toFixed(0)} % of it, ${fmt((peak * 1e9) / macs)} images/s at the ceiling`);
}

main();
