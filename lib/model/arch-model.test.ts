import { describe, expect, it } from 'vitest';
import { type Architecture, BATCH_NORM_EPSILON, type Op, type Shape3, lenet5Arch, mlpArch, resnetArch, tensorShapes } from './arch.ts';
import { type ConvGeometry, convFloat, convInt8Dynamic, convInt8Full, gapFloat, maxPool } from './arch-kernels.ts';
import { foldBatchNorm, toArchModel, toArchWeights } from './arch-weights.ts';
import { toCsrLayer, toDenseModel, toSparseModel } from './convert.ts';
import { decodeFloat16Array } from './float16.ts';
import { quantizeWeightColumns, roundHalfAway } from './int8.ts';
import { decodeModel, encodeModel } from './format.ts';
import { createPredictor } from './predictor.ts';
import { quantizeInt8Full } from './quantize.ts';
import { gaussian, randomArchWeights, randomImages, randomMlp } from './testing.ts';
import type { ActivationQuantization, ArchCompactModel, ArchInt8FullModel, CompactModel } from './types.ts';
import { ModelFormatError } from './validate.ts';
import { mulberry32 } from '../random.ts';

/*
 * References written plainly from the formulas (loops over the conv sum), not the kernels' code:
 * y[oy, ox, f] = b[f] + Σ_{ky, kx, c} x[oy·s − p + ky, ox·s − p + kx, c] · K[ky, kx, c, f].
 */
function naiveConv(x: ArrayLike<number>, [h, w, c]: Shape3, K: ArrayLike<number>, b: ArrayLike<number>, k: number, s: number, p: number, F: number): { y: Float64Array; shape: Shape3 } {
  const oh = Math.floor((h + 2 * p - k) / s) + 1, ow = Math.floor((w + 2 * p - k) / s) + 1;
  const y = new Float64Array(oh * ow * F);
  for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) for (let f = 0; f < F; f++) {
    let sum = b[f];
    for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) for (let ch = 0; ch < c; ch++) {
      const iy = oy * s - p + ky, ix = ox * s - p + kx;
      if (iy >= 0 && iy < h && ix >= 0 && ix < w) sum += x[(iy * w + ix) * c + ch] * K[((ky * k + kx) * c + ch) * F + f];
    }
    y[(oy * ow + ox) * F + f] = sum;
  }
  return { y, shape: [oh, ow, F] };
}

function naiveMaxPool(x: ArrayLike<number>, [h, w, c]: Shape3, size: number, s: number): Float64Array {
  const oh = Math.floor((h - size) / s) + 1, ow = Math.floor((w - size) / s) + 1;
  const y = new Float64Array(oh * ow * c).fill(-Infinity);
  for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) for (let ch = 0; ch < c; ch++)
    for (let dy = 0; dy < size; dy++) for (let dx = 0; dx < size; dx++)
      y[(oy * ow + ox) * c + ch] = Math.max(y[(oy * ow + ox) * c + ch], x[((oy * s + dy) * w + ox * s + dx) * c + ch]);
  return y;
}

const randArray = (n: number, rand: () => number, scale = 1) => Float32Array.from({ length: n }, () => scale * gaussian(rand));
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  expect(worst).toBeLessThanOrEqual(tol);
}

const geometries: [Shape3, number, number, number, number][] = [
  // [input, kernel, stride, padding, filters]
  [[7, 5, 1], 3, 1, 1, 4],
  [[7, 5, 3], 3, 2, 0, 5],
  [[9, 6, 3], 4, 3, 2, 3],
  [[5, 5, 1], 5, 1, 2, 7],
  [[6, 7, 3], 1, 2, 0, 2],
  [[3, 3, 1], 3, 1, 0, 1],
];

describe('conv kernels against the direct convolution sum', () => {
  it.each(geometries)('input %j kernel %i stride %i padding %i filters %i: dense, sparse, int8 dynamic and int8 full', (shape, k, s, p, F) => {
    const rand = mulberry32(shape[0] * 100 + k * 10 + s + p);
    const [h, w, c] = shape;
    const x = Float32Array.from({ length: h * w * c }, () => (rand() < 0.3 ? 0 : rand() * 2 - 0.5));
    const K = randArray(k * k * c * F, rand, 0.5);
    for (let i = 0; i < K.length; i++) if (rand() < 0.4) K[i] = 0; // some pruned weights
    const b = randArray(F, rand, 0.1);
    const ref = naiveConv(x, shape, K, b, k, s, p, F);
    const [oh, ow] = ref.shape;
    const g: ConvGeometry = { h, w, c, kernel: k, stride: s, padding: p, oh, ow, filters: F };
    const inDim = k * k * c;
    const patchF = new Float32Array(inDim), acc = new Float64Array(F);

    for (const relu of [false, true]) {
      const expected = ref.y.map((v) => (relu ? Math.max(v, 0) : v));
      const dense = new Float32Array(oh * ow * F);
      convFloat(x, 0, g, { weights: K, bias: b }, relu, dense, patchF, acc);
      expectClose(dense, expected, 1e-6);
      const sparse = new Float32Array(oh * ow * F);
      convFloat(x, 0, g, toCsrLayer(K, inDim, F, b), relu, sparse, patchF, acc);
      expect([...sparse]).toEqual([...dense]);
    }

    // int8 dynamic: the conv of the fake-quantized input and weights, evaluated in float64.
    const q = quantizeWeightColumns(K, inDim, F);
    const wDeq = Float64Array.from(q.weights, (v, i) => v * q.weightScales[i % F]);
    const m = Math.max(...x.map(Math.abs));
    const xDeq = Float64Array.from(x, (v) => (roundHalfAway((v * 127) / m) * m) / 127);
    const dynRef = naiveConv(xDeq, shape, wDeq, b, k, s, p, F);
    const dyn = new Float32Array(oh * ow * F);
    convInt8Dynamic(x, 0, g, q.weights, q.weightScales, b, false, dyn, new Int8Array(h * w * c), new Int8Array(inDim), new Int32Array(F));
    expectClose(dyn, dynRef.y, 1e-6);

    // int8 full: codes of the requantized float conv of the dequantized codes.
    const sIn = 0.01, zpIn = -100, sOut = 0.02, zpOut = 3;
    const codes = Int8Array.from(x, (v) => Math.max(-128, Math.min(127, roundHalfAway(v / sIn) + zpIn)));
    const qb = Int32Array.from(b, (v, f) => roundHalfAway(v / (sIn * q.weightScales[f])));
    const realIn = Float64Array.from(codes, (v) => (v - zpIn) * sIn);
    const realB = Float64Array.from(qb, (v, f) => v * sIn * q.weightScales[f]);
    const fullRef = naiveConv(realIn, shape, wDeq, realB, k, s, p, F);
    for (const lo of [-128, zpOut]) {
      const expected = Array.from(fullRef.y, (v) => Math.max(lo, Math.min(127, roundHalfAway(v / sOut) + zpOut)));
      const got = new Int8Array(oh * ow * F);
      const mult = Float64Array.from(q.weightScales, (sw) => (sIn * sw) / sOut);
      convInt8Full(codes, zpIn, g, q.weights, qb, mult, zpOut, lo, got, new Int8Array(inDim), new Int32Array(F));
      // Exact up to float rounding at a .5 tie, which these random values do not hit.
      expect([...got]).toEqual(expected);
    }
  });
});

describe('pooling kernels against direct loops', () => {
  it.each([[[7, 5, 1], 2, 2], [[6, 6, 3], 3, 2], [[5, 7, 3], 2, 1]] as [Shape3, number, number][])('maxpool %j size %i stride %i', (shape, size, s) => {
    const rand = mulberry32(size * 7 + s);
    const [h, w, c] = shape;
    const x = randArray(h * w * c, rand);
    const oh = Math.floor((h - size) / s) + 1, ow = Math.floor((w - size) / s) + 1;
    const y = new Float32Array(oh * ow * c);
    maxPool(x, h, w, c, size, s, oh, ow, y);
    expect([...y]).toEqual([...naiveMaxPool(x, shape, size, s)]);
    const q = Int8Array.from(x, (v) => Math.round(v * 40));
    const qy = new Int8Array(oh * ow * c);
    maxPool(q, h, w, c, size, s, oh, ow, qy);
    expect([...qy]).toEqual([...naiveMaxPool(q, shape, size, s)]);
  });

  it('global average pooling', () => {
    const rand = mulberry32(5);
    const x = randArray(5 * 3 * 3, rand);
    const y = new Float32Array(3);
    gapFloat(x, 15, 3, y);
    const expected = [0, 1, 2].map((ch) => Array.from({ length: 15 }, (_, p) => x[p * 3 + ch]).reduce((a, v) => a + v, 0) / 15);
    expectClose(y, expected, 1e-7);
  });
});

/**
 * A whole-network float reference, with BatchNorm applied unfolded after the conv:
 * (z − mean) / sqrt(variance + ε) · gamma + beta. Each tensor may be passed through `fq`
 * (fake quantization) after it is computed, and weights through `fw`.
 */
function referenceLogits(
  arch: Architecture,
  params: Record<string, ArrayLike<number>>,
  image: Float32Array,
  fq: (tensor: string, values: Float64Array) => Float64Array = (_, v) => v,
  /** Applied to a conv's or dense layer's input as that op reads it (the other readers see it unchanged). */
  fin: (values: Float64Array) => Float64Array = (v) => v,
): Float64Array {
  const shapes = tensorShapes(arch);
  const t = new Map<string, Float64Array>([['input', fq('input', Float64Array.from(image))]]);
  for (const op of arch.ops as Op[]) {
    let y: Float64Array;
    if (op.op === 'conv') {
      const zeros = new Float64Array(op.filters);
      y = naiveConv(fin(t.get(op.input)!), shapes.get(op.input)!, params[`${op.name}.kernel`], op.batchNorm ? zeros : params[`${op.name}.bias`], op.kernel, op.stride, op.padding, op.filters).y;
      if (op.batchNorm) {
        const [g, be, mu, v] = ['gamma', 'beta', 'mean', 'variance'].map((s) => params[`${op.name}.${s}`]);
        y = y.map((z, i) => { const f = i % op.filters; return ((z - mu[f]) / Math.sqrt(v[f] + BATCH_NORM_EPSILON)) * g[f] + be[f]; });
      }
      if (op.relu) y = y.map((v) => Math.max(v, 0));
    } else if (op.op === 'dense') {
      const x = fin(t.get(op.input)!);
      const K = params[`${op.name}.kernel`], b = params[`${op.name}.bias`];
      y = Float64Array.from({ length: op.units }, (_, o) => { let s = b[o]; for (let i = 0; i < x.length; i++) s += x[i] * K[i * op.units + o]; return op.relu ? Math.max(s, 0) : s; });
    } else if (op.op === 'maxpool') {
      y = naiveMaxPool(t.get(op.input)!, shapes.get(op.input)!, op.size, op.stride);
    } else if (op.op === 'add') {
      const a = t.get(op.inputs[0])!, b = t.get(op.inputs[1])!;
      y = a.map((v, i) => (op.relu ? Math.max(v + b[i], 0) : v + b[i]));
    } else {
      const [h, w, c] = shapes.get(op.input)!;
      const x = t.get(op.input)!;
      y = Float64Array.from({ length: c }, (_, ch) => { let s = 0; for (let p = 0; p < h * w; p++) s += x[p * c + ch]; return s / (h * w); });
    }
    t.set(op.output, op.op === 'maxpool' ? y : fq(op.output, y));
  }
  return t.get(arch.output)!;
}

const archs: [string, Architecture][] = [
  ['lenet5 28×28×1', lenet5Arch([28, 28, 1], 10, { conv: [4, 6], dense: [20] })],
  ['lenet5 32×32×3', lenet5Arch([32, 32, 3], 10, { conv: [3, 5], dense: [16, 12] })],
  ['resnet-8 9×9×3', resnetArch([9, 9, 3], 5, { depth: 8, width: 4 })],
  ['resnet-14 8×8×1', resnetArch([8, 8, 1], 4, { depth: 14, width: 3 })],
];
const N = 24;

describe.each(archs)('%s', (_, arch) => {
  const w = randomArchWeights(arch, 11, 0.5);
  const len = arch.input[0] * arch.input[1] * arch.input[2];
  const images = randomImages(N, len, 12);
  const calibration = randomImages(16, len, 13);
  const model = (kind: CompactModel['kind']) => toArchModel(w, kind, { calibration, n: 16 }) as ArchCompactModel;
  const logitsOf = (m: CompactModel) => { const p = createPredictor(m); return Array.from({ length: N }, (_, k) => p.logits(images.slice(k * len, (k + 1) * len))); };

  it('folded BatchNorm gives the logits of unfolded BatchNorm (float reference, within 1e-5)', () => {
    const got = logitsOf(model('dense-f32'));
    got.forEach((l, k) => expectClose(l, referenceLogits(arch, w.params, images.slice(k * len, (k + 1) * len)), 1e-5));
  });

  it('folding keeps pruned weights exactly zero', () => {
    const folded = foldBatchNorm(w);
    for (const [name, p] of Object.entries(w.params)) {
      if (!name.endsWith('.kernel')) continue;
      const zeros = p.reduce((a, v) => a + (v === 0 ? 1 : 0), 0);
      expect(zeros).toBeGreaterThan(0);
      expect(folded.params[name].reduce((a, v, i) => a + (v === 0 ? 1 : 0) * (p[i] === 0 ? 1 : 0), 0)).toBe(zeros);
      expect(folded.params[name].reduce((a, v) => a + (v === 0 ? 1 : 0), 0)).toBe(zeros);
    }
  });

  it('sparse gives the dense logits exactly, and stores only the nonzeros', () => {
    const sparse = model('sparse-f32');
    expect(logitsOf(sparse)).toEqual(logitsOf(model('dense-f32')));
    if (sparse.kind !== 'sparse-f32') throw new Error('kind');
    const kept = sparse.layers.reduce((a, l) => a + l.values.length, 0);
    const total = Object.entries(w.params).filter(([n]) => n.endsWith('.kernel')).reduce((a, [, p]) => a + p.length, 0);
    expect(kept).toBe(Math.round(total - [...Object.entries(w.params)].filter(([n]) => n.endsWith('.kernel')).reduce((a, [, p]) => a + Math.round(p.length * 0.5), 0)));
  });

  it('f16 matches the float reference on its decoded weights', () => {
    const m = model('f16');
    if (m.kind !== 'f16') throw new Error('kind');
    const folded = foldBatchNorm(w).params;
    const decoded: Record<string, ArrayLike<number>> = { ...folded };
    arch.ops.filter((op) => op.op === 'conv' || op.op === 'dense').forEach((op, l) => { decoded[`${(op as { name: string }).name}.kernel`] = decodeFloat16Array(m.layers[l].weights); });
    const ref = foldBatchNorm(w).arch;
    logitsOf(m).forEach((l, k) => expectClose(l, referenceLogits(ref, decoded, images.slice(k * len, (k + 1) * len)), 1e-5));
  });

  it('int8-dynamic matches a float reference with fake-quantized weights and per-tensor inputs', () => {
    const m = model('int8-dynamic');
    const deq = toArchWeights(m);
    // Every conv/dense input is quantized per image: x ≈ roundHalfAway(x · 127 / max|x|) · max|x| / 127.
    const fq = (_: string, v: Float64Array) => v.map(Math.fround); // the kernels store float32 tensors
    const fin = (v: Float64Array) => {
      const mx = v.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
      return mx === 0 ? v : v.map((x) => (roundHalfAway((x * 127) / mx) * mx) / 127);
    };
    // The reference sums in float64 where the kernel sums integers exactly: close, not identical.
    const got = logitsOf(m);
    let agree = 0;
    got.forEach((l, k) => {
      const r = referenceLogits(deq.arch, deq.params, images.slice(k * len, (k + 1) * len), fq, fin);
      expectClose(l, r, 1e-4);
      if (argmaxOf(l) === argmaxOf(r)) agree++;
    });
    expect(agree).toBeGreaterThanOrEqual(N - 1);
  });

  it('int8-full matches a float reference with fake-quantized weights and activations', () => {
    const m = model('int8-full') as ArchInt8FullModel;
    const deq = toArchWeights(m);
    const acts: Record<string, ActivationQuantization> = m.activations;
    const fq = (name: string, v: Float64Array) => {
      const { scale, zeroPoint } = acts[name];
      return v.map((x) => (Math.max(-128, Math.min(127, roundHalfAway(x / scale) + zeroPoint)) - zeroPoint) * scale);
    };
    const got = logitsOf(m);
    let agree = 0;
    const sL = acts[arch.output].scale;
    got.forEach((l, k) => {
      const r = referenceLogits(deq.arch, deq.params, images.slice(k * len, (k + 1) * len), fq);
      // Within a few output steps: the reference rounds once per tensor too, but in float64.
      for (let o = 0; o < r.length; o++) expect(Math.abs(l[o] - r[o])).toBeLessThanOrEqual(3 * sL + 1e-9);
      if (argmaxOf(l) === argmaxOf(r)) agree++;
    });
    expect(agree).toBeGreaterThanOrEqual(N - 2);
  });

  it.each(['dense-f32', 'sparse-f32', 'f16', 'int8-dynamic', 'int8-full'] as const)('%s: format v2 round trip', (kind) => {
    const m = model(kind);
    const bytes = encodeModel(m);
    expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(2);
    const back = decodeModel(bytes);
    expect(back).toEqual(m);
    expect(logitsOf(back)).toEqual(logitsOf(m));
  });
});

function argmaxOf(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

describe('MLP architectures keep the MLP models and files', () => {
  it('toArchModel of an mlp arch is the dims model toDenseModel / toSparseModel / quantizeInt8Full give', () => {
    const mlp = randomMlp([12, 8, 5], 3);
    const arch = mlpArch([3, 4, 1], 5, [8]);
    const params = { 'fc1.kernel': mlp.layers[0].weights, 'fc1.bias': mlp.layers[0].bias, 'fc2.kernel': mlp.layers[1].weights, 'fc2.bias': mlp.layers[1].bias };
    const cal = randomImages(4, 12, 4);
    expect(encodeModel(toArchModel({ arch, params }, 'dense-f32'))).toEqual(encodeModel(toDenseModel(mlp)));
    expect(encodeModel(toArchModel({ arch, params }, 'sparse-f32'))).toEqual(encodeModel(toSparseModel(mlp)));
    expect(encodeModel(toArchModel({ arch, params }, 'int8-full', { calibration: cal, n: 4 }))).toEqual(encodeModel(quantizeInt8Full(mlp, cal, 4)));
  });

  // Written by the format-1 encoder before architecture models existed (randomMlp([6, 5, 3], 7),
  // dense-f32 and int8-full calibrated on randomImages(4, 6, 8)).
  const v1 = ['UElFTQEAAAA2AQAAeyJraW5kIjoiZGVuc2UtZjMyIiwiZGltcyI6WzYsNSwzXSwibGF5ZXJzIjpbeyJhcnJheXMiOlt7Im5hbWUiOiJ3ZWlnaHRzIiwiZHR5cGUiOiJmMzIiLCJieXRlT2Zmc2V0IjowLCJsZW5ndGgiOjMwfSx7Im5hbWUiOiJiaWFzIiwiZHR5cGUiOiJmMzIiLCJieXRlT2Zmc2V0IjoxMjAsImxlbmd0aCI6NX1dfSx7ImFycmF5cyI6W3sibmFtZSI6IndlaWdodHMiLCJkdHlwZSI6ImYzMiIsImJ5dGVPZmZzZXQiOjE0NCwibGVuZ3RoIjoxNX0seyJuYW1lIjoiYmlhcyIsImR0eXBlIjoiZjMyIiwiYnl0ZU9mZnNldCI6MjA4LCJsZW5ndGgiOjN9XX1dfQAAAAAAACTepz3gef++HL4Uvx+hJz3hz729qVt+PmaGeb/dQIS+pHDwvlN09T4bX6A+JlZuPs5prr1+GV49ELhGPvWKB7+LElo/JwA2PwE6hj+3TmS+H1IaP6pz5TzzHP6+ZdEcP/kzrr50F6S+4lBYPtySD7/OjYG+HvEAPynliD0F2e486uaCPaXEyLztp2U9AAAAADsSWD8H4lM/kSPKv0V3lT8zxLe++G13vydvhj9nd7c+1uvWvq5We7+BPjk9sy6vPcMVQj/3kGM/WBY6vwAAAAC0laI9ba8kPbu/yDw=', 'UElFTQEAAABRAgAAeyJraW5kIjoiaW50OC1mdWxsIiwiZGltcyI6WzYsNSwzXSwibGF5ZXJzIjpbeyJhcnJheXMiOlt7Im5hbWUiOiJ3ZWlnaHRzIiwiZHR5cGUiOiJpOCIsImJ5dGVPZmZzZXQiOjAsImxlbmd0aCI6MzB9LHsibmFtZSI6IndlaWdodFNjYWxlcyIsImR0eXBlIjoiZjMyIiwiYnl0ZU9mZnNldCI6MzIsImxlbmd0aCI6NX0seyJuYW1lIjoiYmlhcyIsImR0eXBlIjoiaTMyIiwiYnl0ZU9mZnNldCI6NTYsImxlbmd0aCI6NX1dfSx7ImFycmF5cyI6W3sibmFtZSI6IndlaWdodHMiLCJkdHlwZSI6Imk4IiwiYnl0ZU9mZnNldCI6ODAsImxlbmd0aCI6MTV9LHsibmFtZSI6IndlaWdodFNjYWxlcyIsImR0eXBlIjoiZjMyIiwiYnl0ZU9mZnNldCI6OTYsImxlbmd0aCI6M30seyJuYW1lIjoiYmlhcyIsImR0eXBlIjoiaTMyIiwiYnl0ZU9mZnNldCI6MTEyLCJsZW5ndGgiOjN9XX1dLCJhY3RpdmF0aW9ucyI6W3sic2NhbGUiOjAuMDAzOTIxNTY4ODU5MzY4NTYzLCJ6ZXJvUG9pbnQiOi0xMjh9LHsic2NhbGUiOjAuMDA0NDg5Mjc1MTYxMTc2OTIsInplcm9Qb2ludCI6LTEyOH0seyJzY2FsZSI6MC4wMDY2NjY4ODg0ODI4Njg2NzEsInplcm9Qb2ludCI6MTN9XX0AAAARv5gF6TSB0sd5Qh7xBzGQb39/yH8Ep0qqvByc4X8AADGJmzthffs7BW+3O5JIBzwI9YE7AAAAAAcOAADJAwAAYAsAAAv9//8VDgAAAAAAAFx2gX/NsnIz3pUGB1J/xgCOpBY8rlvlOwe7SzwAAAAAgwcAAAAFAAC3AQAA'].map((b64) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)));
  it('format-1 files still load, and MLP models are still written as those exact bytes', () => {
    const w = randomMlp([6, 5, 3], 7);
    const dense = decodeModel(v1[0]);
    expect(dense).toEqual(toDenseModel(w));
    expect(encodeModel(dense)).toEqual(v1[0]);
    const full = decodeModel(v1[1]);
    expect(full).toEqual(quantizeInt8Full(w, randomImages(4, 6, 8), 4));
    expect(encodeModel(full)).toEqual(v1[1]);
  });
});

describe('architecture model validation names the problem', () => {
  const arch = lenet5Arch([12, 12, 1], 3, { conv: [2, 3], dense: [4] });
  const w = randomArchWeights(arch, 1);
  const cal = randomImages(2, 144, 2);
  const full = toArchModel(w, 'int8-full', { calibration: cal, n: 2 }) as ArchInt8FullModel;
  const dense = toArchModel(w, 'dense-f32') as ArchCompactModel;
  const header = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + new DataView(bytes.buffer).getUint32(8, true))));
  /** Re-encodes a file with its JSON header edited (data section unchanged). */
  function withHeader(bytes: Uint8Array, edit: (h: any) => void): Uint8Array {
    const dv = new DataView(bytes.buffer);
    const oldLen = dv.getUint32(8, true);
    const h = header(bytes);
    edit(h);
    const json = new TextEncoder().encode(JSON.stringify(h));
    const oldStart = Math.ceil((12 + oldLen) / 8) * 8, newStart = Math.ceil((12 + json.length) / 8) * 8;
    const out = new Uint8Array(newStart + bytes.length - oldStart);
    out.set(bytes.subarray(0, 12));
    new DataView(out.buffer).setUint32(8, json.length, true);
    out.set(json, 12);
    out.set(bytes.subarray(oldStart), newStart);
    return out;
  }

  it.each([
    ['a layer left out', () => withHeader(encodeModel(dense), (h) => h.layers.pop()), /header lists 3 layers, arch "lenet5" has 4 conv\/dense ops/],
    ['layers out of op order', () => withHeader(encodeModel(dense), (h) => { [h.layers[0], h.layers[1]] = [h.layers[1], h.layers[0]]; }), /layer 0: should be op "conv1", got "conv2"/],
    ['an unfolded BatchNorm', () => withHeader(encodeModel(dense), (h) => { h.arch.ops[0].batchNorm = true; }), /conv 'conv1' still has BatchNorm/],
    ['an arch whose shapes do not fit', () => withHeader(encodeModel(dense), (h) => { h.arch.ops[2].kernel = 9; }), /architecture: .*empty output|layer 1 \('conv2'\): weights has length/],
    ['a kernel of the wrong size', () => withHeader(encodeModel(dense), (h) => { h.arch.ops[0].filters = 3; }), /layer|weights has length/],
    ['no quantization for a tensor', () => withHeader(encodeModel(full), (h) => { delete h.activations.conv2; }), /no activation quantization for tensor 'conv2'/],
    ['a maxpool requantizing', () => withHeader(encodeModel(full), (h) => { h.activations.pool1.scale *= 2; }), /maxpool 'pool1' must have the quantization of its input 'conv1'/],
    ['no arch', () => withHeader(encodeModel(dense), (h) => { delete h.arch; }), /version 2 header needs arch/],
  ])('%s', (_, make, message) => {
    const bytes = make();
    expect(() => decodeModel(bytes)).toThrow(ModelFormatError);
    expect(() => decodeModel(bytes)).toThrow(message);
  });

  it('weights missing a parameter or of the wrong length', () => {
    const { 'conv2.bias': _, ...missing } = w.params;
    expect(() => toArchModel({ arch, params: missing }, 'dense-f32')).toThrow(/parameter 'conv2.bias' \[3\] is missing/);
    expect(() => toArchModel({ arch, params: { ...w.params, 'fc1.bias': new Float32Array(3) } }, 'dense-f32')).toThrow(/'fc1.bias' has 3 values, expected 4/);
    expect(() => toArchModel(w, 'int8-full')).toThrow(/int8-full needs calibration images/);
  });
});
