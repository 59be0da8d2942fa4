/**
 * Gradual pruning observed during training (not only after the final exact mask): the sparsity
 * of every weight matrix after every step, against METHOD.md's schedule written out here — on
 * both training paths (the project's wasm kernels and tfjs ops). And the kernel path against
 * tfjs: its gradients against autograd, its trained model against the tfjs path's.
 */
import '@tensorflow/tfjs-backend-cpu';
// Autograd (a reference below) needs the gradient functions, which tfjs-core's entry does not register.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../lib/random.ts';
import { WasmMlpTrainer } from '../lib/model/wasm/mlp-train.ts';
import { wasmKernels } from '../lib/model/wasm/runtime.ts';
import { installNodeKernels } from '../node/wasm-kernels.ts';
import { initWeights, trainMember, type MemberSpec, type MlpPath, type StepState, type TrainData } from './train.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  await installNodeKernels();
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

describe.each<MlpPath>(['kernels', 'tfjs'])('gradual magnitude pruning during training on the %s path', (path) => {
  const states: StepState[] = [];
  let observed: ReturnType<typeof trainMember>;
  beforeAll(() => {
    observed = trainMember(spec, data(), undefined, (s) => states.push(s), path);
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
    const plain = trainMember(spec, data(), undefined, undefined, path);
    plain.weights.layers.forEach((l, i) => {
      expect(Buffer.from(l.weights.buffer)).toEqual(Buffer.from(observed.weights.layers[i].weights.buffer));
      expect(Buffer.from(l.bias.buffer)).toEqual(Buffer.from(observed.weights.layers[i].bias.buffer));
    });
    expect(plain.layerSparsity).toEqual([0.8, 0.8]);
  });
});

describe('the kernel path', () => {
  it('computes the gradients tfjs autograd does (cpu backend)', () => {
    const dims = [12, 10, 4];
    const init = initWeights(dims, 21);
    // Non-zero biases so their gradients flow through every ReLU pattern.
    init.layers.forEach((l, i) => l.bias.forEach((_, o) => { l.bias[o] = ((o * 7 + i) % 5 - 2) * 0.05; }));
    const { images, labels } = data();
    const rows = [5, 9, 0, 33, 12, 60, 2, 47];
    const net = new WasmMlpTrainer(wasmKernels()!, init, rows.length, { learningRate: 1e-3 });
    const got = net.gradients(images, labels, rows);
    net.release();
    const params = init.layers.flatMap((l) => [tf.tensor2d(l.weights, [l.inDim, l.outDim]), tf.tensor1d(l.bias)]);
    const x = tf.tensor2d(Float32Array.from(rows.flatMap((r) => [...images.subarray(r * 12, (r + 1) * 12)])), [rows.length, 12]);
    const y = tf.oneHot(tf.tensor1d(rows.map((r) => labels[r]), 'int32'), 4);
    const loss = (...p: tf.Tensor[]) => {
      let h: tf.Tensor = x;
      for (let l = 0; l < dims.length - 1; l++) {
        h = tf.add(tf.matMul(h as tf.Tensor2D, p[2 * l] as tf.Tensor2D), p[2 * l + 1]);
        if (l < dims.length - 2) h = tf.relu(h);
      }
      return tf.mean(tf.sub(tf.logSumExp(h, 1), tf.sum(tf.mul(h, y), 1))) as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(loss)(params);
    expect(got.loss).toBeCloseTo(value.dataSync()[0], 6);
    init.layers.forEach((_, l) => {
      const dW = grads[2 * l].dataSync(), db = grads[2 * l + 1].dataSync();
      got.dW[l].forEach((g, i) => expect(g, `dW${l}[${i}]`).toBeCloseTo(dW[i], 6));
      got.db[l].forEach((g, i) => expect(g, `db${l}[${i}]`).toBeCloseTo(db[i], 6));
      expect(Math.max(...Array.from(dW, Math.abs)), 'the gradient carries signal').toBeGreaterThan(1e-3);
    });
  });

  it('trains the model the tfjs path trains, up to float32 rounding in the sums', () => {
    const dense = { ...spec, sparsity: 0 };
    const kernels = trainMember(dense, data(), undefined, undefined, 'kernels');
    const tfjs = trainMember(dense, data(), undefined, undefined, 'tfjs');
    let worst = 0, moved = 0;
    const init = initWeights(dense.dims, dense.seed);
    kernels.weights.layers.forEach((l, i) => l.weights.forEach((w, j) => {
      worst = Math.max(worst, Math.abs(w - tfjs.weights.layers[i].weights[j]));
      moved = Math.max(moved, Math.abs(w - init.layers[i].weights[j]));
    }));
    expect(worst).toBeLessThan(1e-4);
    expect(moved, 'training moved the weights far more than the paths differ').toBeGreaterThan(0.05);
    expect(kernels.finalLoss).toBeCloseTo(tfjs.finalLoss, 4);
  });
});
