import { describe, expect, it } from 'vitest';
import { quantizeFloat16, sparsityOf, toDenseModel, toMlpWeights, toSparseModel } from './convert.ts';
import { encodeModel } from './format.ts';
import { argmax } from './kernels.ts';
import { createPredictor } from './predictor.ts';
import { quantizeInt8Dynamic } from './quantize.ts';
import { pruneRandomly, randomImages, randomMlp } from './testing.ts';
import type { MlpWeights } from './types.ts';

const LENET = [784, 300, 100, 10];

/** Textbook forward pass in float64, the reference for the optimised kernels. */
function referenceLogits(w: MlpWeights, x: Float32Array): number[] {
  let a = [...x];
  w.layers.forEach((layer, l) => {
    const y = Array.from(layer.bias);
    for (let o = 0; o < layer.outDim; o++) {
      for (let i = 0; i < layer.inDim; i++) y[o] += a[i] * layer.weights[i * layer.outDim + o];
    }
    a = l < w.layers.length - 1 ? y.map((v) => Math.max(v, 0)) : y;
  });
  return a;
}

describe('dense kernel', () => {
  it('matches a textbook forward pass (widths not divisible by 4 included)', () => {
    const w = randomMlp([37, 23, 6, 3], 1);
    const p = createPredictor(toDenseModel(w));
    const xs = randomImages(20, 37, 2);
    for (let k = 0; k < 20; k++) {
      const x = xs.subarray(k * 37, (k + 1) * 37);
      const got = p.logits(x);
      referenceLogits(w, x).forEach((v, o) => expect(got[o]).toBeCloseTo(v, 5));
    }
  });

  it('writes into the given buffer and agrees with predictBatch', () => {
    const w = randomMlp(LENET, 3);
    const p = createPredictor(toDenseModel(w));
    const xs = randomImages(50, 784, 4);
    const labels = p.predictBatch(xs, 50);
    const out = new Float32Array(10);
    for (let k = 0; k < 50; k++) {
      expect(p.logits(xs.slice(k * 784, (k + 1) * 784), out)).toBe(out);
      expect(labels[k]).toBe(argmax(out));
    }
  });

  it('rejects inputs of the wrong size', () => {
    const p = createPredictor(toDenseModel(randomMlp([4, 3, 2], 5)));
    expect(() => p.logits(new Float32Array(5))).toThrow('logits: image has 5 values, model expects 4');
    expect(() => p.predictBatch(new Float32Array(7), 2)).toThrow('predictBatch: 7 values cannot hold 2 images of 4');
  });
});

describe('sparse kernel', () => {
  const w = randomMlp(LENET, 11);
  const xs = randomImages(40, 784, 12);

  it.each([0.5, 0.9, 0.99])('equals the dense kernel on a net pruned to %s', (sparsity) => {
    const pruned = pruneRandomly(w, sparsity, 13);
    const dense = createPredictor(toDenseModel(pruned));
    const sparse = createPredictor(toSparseModel(pruned));
    for (let k = 0; k < 40; k++) {
      const x = xs.subarray(k * 784, (k + 1) * 784);
      const a = dense.logits(x);
      const b = sparse.logits(x);
      for (let o = 0; o < 10; o++) expect(Math.abs(a[o] - b[o])).toBeLessThanOrEqual(1e-5);
      // Same terms in the same order: in fact identical.
      expect([...b]).toEqual([...a]);
    }
    expect([...sparse.predictBatch(xs, 40)]).toEqual([...dense.predictBatch(xs, 40)]);
  });

  it.each([0.5, 0.9, 0.99])('makes a smaller file than dense at %s sparsity', (sparsity) => {
    const pruned = pruneRandomly(w, sparsity, 14);
    const denseBytes = encodeModel(toDenseModel(pruned)).length;
    const sparseBytes = encodeModel(toSparseModel(pruned)).length;
    expect(sparseBytes).toBeLessThan(denseBytes);
    // ~6 bytes per kept weight + row pointers and biases
    const kept = sparsityOf(toSparseModel(pruned)).reduce((s, l) => s + l.nonzeros, 0);
    expect(sparseBytes).toBeLessThan(6 * kept + 4 * (784 + 300 + 100 + 3) + 4 * 410 + 1024);
  });

  it('keeps exact zeros out and converts back losslessly', () => {
    const pruned = pruneRandomly(randomMlp([9, 5, 3], 15), 0.6, 16);
    const sparse = toSparseModel(pruned);
    expect(sparse.layers[0].values.length).toBe(Math.round(45 * 0.4));
    expect(sparse.layers[0].values.every((v) => v !== 0)).toBe(true);
    const back = toMlpWeights(sparse);
    back.layers.forEach((layer, l) => expect([...layer.weights]).toEqual([...pruned.layers[l].weights]));
  });
});

describe('sparsityOf', () => {
  it('counts weight zeros per layer, not biases', () => {
    const pruned = pruneRandomly(randomMlp([10, 20, 5], 17), 0.75, 18);
    const expected = [
      { nonzeros: 50, total: 200, sparsity: 0.75 },
      { nonzeros: 25, total: 100, sparsity: 0.75 },
    ];
    expect(sparsityOf(toDenseModel(pruned))).toEqual(expected);
    expect(sparsityOf(toSparseModel(pruned))).toEqual(expected);
    expect(sparsityOf(quantizeFloat16(pruned))).toEqual(expected);
    // int8 rounding may zero a few more small weights, never fewer
    sparsityOf(quantizeInt8Dynamic(pruned)).forEach((s, l) => expect(s.nonzeros).toBeLessThanOrEqual(expected[l].nonzeros));
  });
});

/**
 * Round to the nearest float16 (ties to even), written here from the format's definition and
 * independent of lib/model/float16.ts: 11 significant bits for |x| ≥ 2^-14, a fixed step of
 * 2^-24 below (subnormals), ±∞ from 65520 up.
 */
function roundToFloat16(x: number): number {
  const a = Math.abs(x);
  if (a === 0 || !Number.isFinite(a)) return x;
  if (a >= 65520) return Math.sign(x) * Infinity;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  const step = 2 ** (Math.max(e, -14) - 10);
  const q = a / step; // exact: a is a float32, step a power of two
  const f = Math.floor(q);
  const r = q - f > 0.5 ? f + 1 : q - f < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  return Math.sign(x) * r * step;
}

describe('f16 predictor', () => {
  it('the independent rounding used below agrees with hand-worked float16 values (numpy.float16 gives the same)', () => {
    expect([1 / 3, 0.1, 1000.7, -2049, 2051, 65519, 1e-6, 3e-8, 2e-8].map((v) => roundToFloat16(Math.fround(v)))).toEqual([
      0.333251953125, 0.0999755859375, 1000.5, -2048, 2052, 65504, 17 * 2 ** -24, 2 ** -24, 0,
    ]);
  });

  it('gives hand-computed logits on a tiny net whose weights float16 rounds', () => {
    // W1 rounds to [[1/3 → 0.333251953125, 0.1 → 0.0999755859375], [1000.7 → 1000.5, −2049 → −2048]].
    // x = [3, 0.5]: h = relu([0.999755859375 + 500.25 + 0.25, 0.2999267578125 − 1024 + 0.5]) = [501.499755859375, 0];
    // logits = [2h₀ + 7h₁ + 0, −h₀ + 5h₁ + 1] = [1002.99951171875, −500.499755859375].
    const w: MlpWeights = {
      dims: [2, 2, 2],
      layers: [
        { inDim: 2, outDim: 2, weights: Float32Array.from([1 / 3, 0.1, 1000.7, -2049]), bias: Float32Array.from([0.25, 0.5]) },
        { inDim: 2, outDim: 2, weights: Float32Array.from([2, -1, 7, 5]), bias: Float32Array.from([0, 1]) },
      ],
    };
    const p = createPredictor(quantizeFloat16(w));
    expect([...p.logits(Float32Array.from([3, 0.5]))]).toEqual([1002.99951171875, -500.499755859375]);
    // Unrounded, the first logit would be 2 · (1 + 500.35 + 0.25) ≈ 1003.2: the rounding is what is tested.
    // x = [−3, 0]: h = [0, 0.5 − 0.2999267578125] → logits [1.4005126953125, 2.0003662109375] → class 1.
    expect([...p.logits(Float32Array.from([-3, 0]))]).toEqual([1.4005126953125, 2.0003662109375]);
    expect([...p.predictBatch(Float32Array.from([3, 0.5, -3, 0]), 2)]).toEqual([0, 1]);
  });

  it('matches a float64 forward pass over independently float16-rounded weights (subnormals included)', () => {
    const w = randomMlp([50, 20, 10], 19);
    w.layers[0].weights.set([1e-6, 3e-8, -5e-5, 2e-8, 0.30004]);
    const rounded: MlpWeights = {
      dims: w.dims,
      layers: w.layers.map((l) => ({ ...l, weights: Float32Array.from(l.weights, roundToFloat16) })),
    };
    const viaF16 = createPredictor(quantizeFloat16(w));
    const xs = randomImages(10, 50, 20);
    const labels = viaF16.predictBatch(xs, 10);
    for (let k = 0; k < 10; k++) {
      const x = xs.subarray(k * 50, (k + 1) * 50);
      const ref = referenceLogits(rounded, x);
      const got = viaF16.logits(x);
      ref.forEach((v, o) => expect(got[o]).toBeCloseTo(v, 5));
      expect(labels[k]).toBe(argmax(ref));
    }
    // The unrounded net differs from the rounded one by more than the tolerance: the check has teeth.
    const x0 = xs.subarray(0, 50);
    const unrounded = referenceLogits(w, x0);
    const rounded0 = referenceLogits(rounded, x0);
    expect(Math.max(...unrounded.map((v, o) => Math.abs(v - rounded0[o])))).toBeGreaterThan(1e-4);
  });
});

describe('argmax', () => {
  it('breaks ties toward the smallest index and ignores NaN', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(argmax([NaN, 0, NaN, 5, 5])).toBe(3);
    expect(argmax([-Infinity, -Infinity])).toBe(0);
    expect(argmax([9, 1, 2, 7, 7], 1, 4)).toBe(2); // index relative to offset
  });
});
