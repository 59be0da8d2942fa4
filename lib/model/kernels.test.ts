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

describe('f16 predictor', () => {
  it('computes exactly what the dense kernel computes on the float16-rounded weights', () => {
    const w = randomMlp([50, 20, 10], 19);
    const f16 = quantizeFloat16(w);
    const viaF16 = createPredictor(f16);
    const viaDense = createPredictor(toDenseModel(toMlpWeights(f16)));
    const xs = randomImages(10, 50, 20);
    expect([...viaF16.predictBatch(xs, 10)]).toEqual([...viaDense.predictBatch(xs, 10)]);
    const x = xs.subarray(0, 50);
    expect([...viaF16.logits(x)]).toEqual([...viaDense.logits(x)]);
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
