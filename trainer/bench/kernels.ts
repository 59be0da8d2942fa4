/**
 * Single-image inference speed of the lib/model kernels on LeNet-300-100 (784-300-100-10):
 * dense-f32 vs sparse-f32 at 0/50/90/99 % magnitude sparsity, then f16, int8-dynamic and
 * int8-full of the unpruned net.
 *
 *   npx tsx trainer/bench/kernels.ts [--images N] [--idx path/to/images-idx3-ubyte[.gz]] [--seed S]
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
} from '../../lib/model/index.ts';
import { PIXEL_SCALE } from '../../lib/model/types.ts';
import { mulberry32 } from '../../lib/random.ts';

const DIMS = [784, 300, 100, 10];
const SPARSITIES = [0, 0.5, 0.9, 0.99];
const WARMUP_IMAGES = 300;
const CALIBRATION_IMAGES = 100;

function parseArgs(argv: string[]): { images: number; idx?: string; seed: number } {
  const get = (name: string) => {
    const k = argv.indexOf(name);
    return k >= 0 ? argv[k + 1] : undefined;
  };
  const images = Number(get('--images') ?? 2000);
  const seed = Number(get('--seed') ?? 1);
  if (!Number.isInteger(images) || images < 1) throw new Error(`--images must be a positive integer, got ${get('--images')}`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${get('--seed')}`);
  return { images, idx: get('--idx'), seed };
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

function measure(model: CompactModel, xs: Float32Array, n: number, reference?: ArrayLike<number>) {
  const p = createPredictor(model);
  const inDim = DIMS[0];
  const out = new Float32Array(DIMS[DIMS.length - 1]);
  const x = new Float32Array(inDim);
  const run = (k: number) => {
    x.set(xs.subarray(k * inDim, (k + 1) * inDim));
    p.logits(x, out);
  };
  for (let k = 0; k < Math.min(WARMUP_IMAGES, n); k++) run(k);
  const started = performance.now();
  for (let k = 0; k < n; k++) run(k);
  const ms = performance.now() - started;
  const labels = p.predictBatch(xs, n);
  let agree = 0;
  if (reference) for (let k = 0; k < n; k++) if (labels[k] === reference[k]) agree++;
  return { usPerImage: (1000 * ms) / n, perSecond: (1000 * n) / ms, bytes: encodeModel(model).length, labels, agreement: reference ? agree / n : 1 };
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const rand = mulberry32(args.seed);
  const net = randomNet(DIMS, rand);
  const data = args.idx ? idxImages(args.idx, args.images) : { xs: syntheticImages(args.images, rand), n: args.images };
  const zeros = data.xs.reduce((z, v) => z + (v === 0 ? 1 : 0), 0) / data.xs.length;
  console.log(`${DIMS.join('-')}, ${data.n} images (${args.idx ? 'IDX' : 'synthetic'}, ${(100 * zeros).toFixed(0)} % zero pixels), seed ${args.seed}, Node ${process.version}`);

  const rows: string[][] = [];
  const row = (kind: string, sparsity: number, r: ReturnType<typeof measure>) =>
    rows.push([kind, `${Math.round(100 * sparsity)} %`, (r.bytes / 1024).toFixed(1), r.usPerImage.toFixed(1), Math.round(r.perSecond).toLocaleString('en-US'), `${(100 * r.agreement).toFixed(1)} %`]);

  let denseLabels: ArrayLike<number> | undefined;
  for (const s of SPARSITIES) {
    const pruned = s > 0 ? pruneByMagnitude(net, s) : net;
    const dense = measure(toDenseModel(pruned), data.xs, data.n);
    row('dense-f32', s, dense);
    row('sparse-f32', s, measure(toSparseModel(pruned), data.xs, data.n, dense.labels));
    if (s === 0) denseLabels = dense.labels;
  }
  const calibration = data.xs.subarray(0, Math.min(CALIBRATION_IMAGES, data.n) * DIMS[0]);
  row('f16', 0, measure(quantizeFloat16(net), data.xs, data.n, denseLabels));
  row('int8-dynamic', 0, measure(quantizeInt8Dynamic(net), data.xs, data.n, denseLabels));
  row('int8-full', 0, measure(quantizeInt8Full(net, calibration, Math.min(CALIBRATION_IMAGES, data.n)), data.xs, data.n, denseLabels));

  const head = ['kind', 'sparsity', 'file KiB', 'µs/image', 'images/s', 'agrees w/ dense'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => `| ${cells.map((v, c) => (c < 2 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w, c) => (c < 2 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log('agreement: argmax equal to the dense-f32 net of the same sparsity (quantized rows: the 0 % net)');
}

main();
