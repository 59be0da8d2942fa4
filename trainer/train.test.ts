/**
 * Gradual pruning observed during training (not only after the final exact mask): the sparsity
 * of every weight matrix after every step, against METHOD.md's schedule written out here.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../lib/random.ts';
import { trainMember, type MemberSpec, type StepState, type TrainData } from './train.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

// 64 examples, batch 8 → 8 steps per epoch, 5 epochs → 40 steps. Window [0.25, 0.75] of them:
// begin = step 10, end = step 30; masks recomputed every 4 steps: 10, 14, 18, 22, 26, 30.
const spec: MemberSpec = {
  level: 'p80', member: 0, seed: 7, dims: [12, 10, 4], sparsity: 0.8, epochs: 5, batchSize: 8, learningRate: 0.01,
  pruning: { begin: 0.25, end: 0.75, frequency: 4 },
};
const BEGIN = 10, END = 30, UPDATES = [10, 14, 18, 22, 26, 30];

function data(): TrainData {
  const rand = mulberry32(11);
  const n = 64;
  const images = Float32Array.from({ length: n * 12 }, () => rand());
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 4);
  return { images, labels, n };
}

/** METHOD.md: s(step) = s_f + (s_i − s_f)(1 − p)^3, p = clip((step − begin)/(end − begin), 0, 1), s_i = 0. */
const scheduled = (step: number) => {
  const p = Math.min(1, Math.max(0, (step - BEGIN) / (END - BEGIN)));
  return 0.8 + (0 - 0.8) * (1 - p) ** 3;
};
const zeros = (w: Float32Array) => w.reduce((a, v) => a + (v === 0 ? 1 : 0), 0);
const zeroSet = (w: Float32Array) => w.reduce<number[]>((a, v, i) => (v === 0 ? (a.push(i), a) : a), []);

describe('gradual magnitude pruning during training', () => {
  const states: StepState[] = [];
  let observed: ReturnType<typeof trainMember>;
  beforeAll(() => {
    observed = trainMember(spec, data(), undefined, (s) => states.push(s));
  });

  it('recomputes the mask exactly at the scheduled steps', () => {
    expect(states).toHaveLength(40);
    expect(states.filter((s) => s.maskUpdated).map((s) => s.step)).toEqual(UPDATES);
    expect(observed.schedule).toMatchObject({ begin: BEGIN, end: END, frequency: 4, target: 0.8 });
  });

  it('has the scheduled sparsity after every step: none before begin, cubic inside the window, the target after end', () => {
    for (const { step, weights } of states) {
      const last = UPDATES.filter((u) => u <= step).at(-1);
      const s = last === undefined ? 0 : scheduled(last);
      for (const w of weights) {
        expect(zeros(w), `step ${step}, ${w.length} weights`).toBe(w.length - Math.round(w.length * (1 - s)));
      }
    }
    // Spot values of the schedule itself: p = 0.4 at step 18 → 0.8 (1 − 0.6³); past end → 0.8.
    expect(zeros(states[18].weights[0])).toBe(120 - Math.round(120 * (1 - 0.8 * (1 - 0.216))));
    expect(zeros(states[35].weights[0])).toBe(120 - 24);
    expect(zeros(states[9].weights[0])).toBe(0);
  });

  it('applies the mask after every update: pruned weights stay exactly zero between mask updates', () => {
    for (let i = 1; i < states.length; i++) {
      if (states[i].maskUpdated) continue;
      states[i].weights.forEach((w, l) => expect(zeroSet(w), `step ${states[i].step}, layer ${l}`).toEqual(zeroSet(states[i - 1].weights[l])));
    }
    // And the optimizer does move the kept weights between updates, so the check has teeth.
    expect(states[33].weights[0]).not.toEqual(states[32].weights[0]);
  });

  it('trains the same model, byte for byte, with or without the observer', () => {
    const plain = trainMember(spec, data());
    plain.weights.layers.forEach((l, i) => {
      expect(Buffer.from(l.weights.buffer)).toEqual(Buffer.from(observed.weights.layers[i].weights.buffer));
      expect(Buffer.from(l.bias.buffer)).toEqual(Buffer.from(observed.weights.layers[i].bias.buffer));
    });
    expect(plain.layerSparsity).toEqual([0.8, 0.8]);
  });
});
