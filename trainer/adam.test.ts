/** The one-pass Adam against tfjs-core's tf.train.adam on the cpu backend, step by step. */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../lib/random.ts';
import { FusedAdam } from './adam.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
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
