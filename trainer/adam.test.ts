/**
 * The one-pass Adam against tfjs-core's tf.train.adam on the cpu backend, step by step; the MLP
 * kernels' Adam against it.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../lib/random.ts';
import type { MlpWeights } from '../lib/model/types.ts';
import type { WasmKernels } from '../lib/model/wasm/runtime.ts';
import { WasmMlpTrainer } from '../lib/model/wasm/mlp-train.ts';
import { installNodeKernels } from '../node/wasm-kernels.ts';
import { FusedAdam } from './adam.ts';
import { initWeights } from './train.ts';

let kernels: WasmKernels;
beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  kernels = await installNodeKernels();
});

describe('FusedAdam', () => {
  it('takes the same steps as tf.train.adam, to the last bit', () => {
    const rand = mulberry32(5);
    const shapes: Record<string, number> = { kernel: 300, bias: 7 };
    const values = new Map(Object.entries(shapes).map(([k, n]) => [k, Float32Array.from({ length: n }, () => rand() * 2 - 1)]));
    const init = values.get('kernel')!.slice();
    const vars = new Map([...values].map(([k, v]) => [k, tf.variable(tf.tensor1d(v.slice()), true, `adam-test-${k}`)]));
    const mine = new FusedAdam(3e-3), theirs = tf.train.adam(3e-3);
    let worst = 0, differing = 0;
    for (let step = 0; step < 40; step++) {
      // Gradients over several orders of magnitude, with exact zeros among them.
      const grads: Record<string, Float32Array> = {};
      for (const [k, n] of Object.entries(shapes)) grads[k] = Float32Array.from({ length: n }, () => (rand() < 0.1 ? 0 : (rand() - 0.5) * 10 ** (rand() * 6 - 4)));
      mine.step(values, grads);
      theirs.applyGradients(Object.entries(grads).map(([k, g]) => ({ name: vars.get(k)!.name, tensor: tf.tensor1d(g) })));
      for (const [k, v] of vars) {
        const ref = v.dataSync(), got = values.get(k)!;
        for (let i = 0; i < ref.length; i++) {
          if (got[i] !== ref[i]) differing++;
          worst = Math.max(worst, Math.abs(got[i] - ref[i]) / Math.max(1e-12, Math.abs(ref[i])));
        }
      }
    }
    expect(differing, `values differing from tfjs (worst relative ${worst})`).toBe(0);
    expect(values.get('kernel')!.some((v, i) => Math.abs(v - init[i]) > 1e-3), 'the weights moved').toBe(true);
  });

  it('zeroes masked weights in the same pass and keeps the rest moving', () => {
    const values = new Map([['w', Float32Array.from([0.5, -0.25, 0.75, 1])]]);
    const masks = new Map([['w', Float32Array.from([1, 0, 1, 0])]]);
    const adam = new FusedAdam(0.1);
    adam.step(values, { w: Float32Array.from([1, 1, -1, 1]) }, masks);
    const w = values.get('w')!;
    // First step of Adam moves each weight by −lr·sign(g) (up to ε).
    expect(w[0]).toBeCloseTo(0.4, 5);
    expect(w[2]).toBeCloseTo(0.85, 5);
    expect(Object.is(w[1], 0) && Object.is(w[3], 0)).toBe(true);
  });

  it('refuses a gradient without its parameter or of another length', () => {
    const adam = new FusedAdam(0.1);
    expect(() => adam.step(new Map(), { w: new Float32Array(2) })).toThrow(/no parameter 'w'/);
    expect(() => adam.step(new Map([['w', new Float32Array(3)]]), { w: new Float32Array(2) })).toThrow(/2 values, the parameter 3/);
  });
});

describe('the MLP kernels\' Adam (lib/model/wasm/mlp-train.ts)', () => {
  /** The kernels' steps against FusedAdam fed the kernels' own gradients, the mask in both. */
  function compare(dims: number[], images: Float32Array, labels: Uint8Array, batches: number[][], masked: boolean) {
    const init = initWeights(dims, 3);
    const net = new WasmMlpTrainer(kernels, init, batches[0].length, { learningRate: 1e-2 });
    const params = new Map<string, Float32Array>(), masks = new Map<string, Float32Array>();
    init.layers.forEach((l, i) => {
      params.set(`w${i}`, l.weights.slice());
      params.set(`b${i}`, l.bias.slice());
      if (!masked) return;
      const mask = Float32Array.from(l.weights, (_, j) => (j % 4 === 2 ? 0 : 1));
      masks.set(`w${i}`, mask);
      net.setMask(i, mask);
      params.get(`w${i}`)!.forEach((_, j, w) => { if (mask[j] === 0) w[j] = 0; });
    });
    const adam = new FusedAdam(1e-2);
    try {
      for (const rows of batches) {
        const { dW, db } = net.gradients(images, labels, rows);
        const grads: Record<string, Float32Array> = {};
        dW.forEach((g, i) => { grads[`w${i}`] = g; grads[`b${i}`] = db[i]; });
        adam.step(params, grads, masks);
        net.step(images, labels, rows);
      }
      return { got: net.weights(), want: params };
    } finally {
      net.release();
    }
  }
  const same = (got: MlpWeights, want: Map<string, Float32Array>) => got.layers.every((l, i) =>
    Buffer.from(l.weights.buffer).equals(Buffer.from(want.get(`w${i}`)!.buffer)) && Buffer.from(l.bias.buffer).equals(Buffer.from(want.get(`b${i}`)!.buffer)));

  it('takes the same steps as FusedAdam (so as tf.train.adam), to the last bit, with and without a mask', () => {
    const rand = mulberry32(12);
    const images = Float32Array.from({ length: 64 * 20 }, () => (rand() < 0.4 ? 0 : rand()));
    const labels = Uint8Array.from({ length: 64 }, (_, i) => i % 5);
    const batches = Array.from({ length: 30 }, (_, s) => Array.from({ length: 8 }, (_, j) => (s * 8 + j * 3) % 64));
    for (const masked of [false, true]) {
      const { got, want } = compare([20, 13, 5], images, labels, batches, masked);
      expect(same(got, want), masked ? 'masked' : 'dense').toBe(true);
      expect(got.layers[0].weights).not.toEqual(initWeights([20, 13, 5], 3).layers[0].weights);
    }
  });

  it('gives the same weights where moments decay below 2⁻¹²⁶ (flushed to 0 here, subnormal in FusedAdam)', () => {
    // Input 0 is nonzero in the first 20 batches only: afterwards its weights' gradients are 0
    // and m shrinks by 0.9 a step, through the subnormal range (0.9⁹⁸⁰ ≈ 1e-45).
    const images = Float32Array.from({ length: 8 * 3 }, (_, i) => (i % 3 === 0 ? (i < 12 ? 0.8 : 0) : 0.1 + (i % 7) / 10));
    const labels = Uint8Array.from({ length: 8 }, (_, i) => i % 2);
    const batches = Array.from({ length: 1000 }, (_, s) => (s < 20 ? [0, 1, 2, 3] : [4, 5, 6, 7]));
    const { got, want } = compare([3, 4, 2], images, labels, batches, false);
    expect(same(got, want)).toBe(true);
  });
});
