/**
 * The hand-written CNN backward pass against tfjs autograd (tf.conv2d, tf.maxPool, tf.moments …
 * on the cpu backend) and against central differences of tfjs's loss; exact per-tensor sparsity
 * after pruned runs; determinism.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// Autograd (the reference below) needs the gradient functions, which tfjs-core's entry does not register.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Architecture, lenet5Arch, paramSpecs, resnetArch } from '../lib/model/arch.ts';
import type { ArchWeights } from '../lib/model/arch-weights.ts';
import { mulberry32 } from '../lib/random.ts';
import { installNodeKernels } from '../node/wasm-kernels.ts';
import { cnnKernelsUnsupported } from '../lib/model/wasm/cnn-train.ts';
import { archGradients, defaultCnnPath, initArchWeights, tfjsArchLogits, trainCnnMember, type CnnMemberSpec, type CnnPath } from './cnn-train.ts';
import type { TrainData } from './train.ts';

beforeAll(async () => {
  await installNodeKernels();
  await tf.setBackend('cpu');
  await tf.ready();
});

/** Init, then biases, β and γ moved off their init values so every gradient path carries signal. */
function weightsFor(arch: Architecture, seed: number): ArchWeights {
  const w = initArchWeights(arch, seed);
  const rand = mulberry32(seed + 1);
  for (const { name } of paramSpecs(arch)) {
    const p = w.params[name];
    if (name.endsWith('.bias') || name.endsWith('.beta')) for (let i = 0; i < p.length; i++) p[i] = (rand() - 0.5) * 0.2;
    if (name.endsWith('.gamma')) for (let i = 0; i < p.length; i++) p[i] = 0.8 + rand() * 0.4;
  }
  return w;
}

function batch(arch: Architecture, B: number, seed: number) {
  const rand = mulberry32(seed);
  const [h, w, c] = arch.input;
  const xs = Float32Array.from({ length: B * h * w * c }, () => rand());
  const labels = Int32Array.from({ length: B }, (_, i) => i % arch.classes);
  return { xs, labels };
}

/** tfjs's mean softmax cross-entropy of the training-mode forward pass. */
function tfjsLoss(arch: Architecture, params: Record<string, tf.Tensor>, xs: Float32Array, labels: Int32Array, B: number): tf.Scalar {
  const [h, w, c] = arch.input;
  const logits = tfjsArchLogits(arch, params, tf.tensor4d(xs, [B, h, w, c]), 'train');
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), arch.classes);
  return tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(logits, y), 1)));
}

const trainable = (arch: Architecture) => paramSpecs(arch).filter((s) => !s.name.endsWith('.mean') && !s.name.endsWith('.variance'));

const cases: [string, Architecture][] = [
  ['lenet5, 1 channel', lenet5Arch([12, 12, 1], 3, { conv: [2, 3], dense: [5] })],
  ['lenet5, 3 channels', lenet5Arch([12, 12, 3], 3, { conv: [2, 3], dense: [5] })],
  ['resnet-8, 1 channel', resnetArch([8, 8, 1], 3, { depth: 8, width: 2 })],
  ['resnet-8, 3 channels', resnetArch([8, 8, 3], 3, { depth: 8, width: 2 })],
];

/** The hand-written passes: tfjs ops on either engine (wasm: XNNPACK's convolutions), and LeNet-5's kernels. */
const passes = (arch: Architecture): [CnnPath, string][] => [
  ['tfjs', 'cpu'], ['tfjs', 'wasm'], ...(cnnKernelsUnsupported(arch) ? [] : [['kernels', 'wasm'] as [CnnPath, string]]),
];

describe('CNN gradients', () => {
  for (const [label, arch] of cases) {
    it.each(passes(arch))(`${label}: the %s path on the %s engine matches tfjs autograd for every parameter`, async (path, engine) => {
      const B = 4;
      const w = weightsFor(arch, 3);
      const { xs, labels } = batch(arch, B, 5);
      // The reference always by autograd on the cpu backend.
      expect(await tf.setBackend(engine)).toBe(true);
      expect(tf.getBackend()).toBe(engine);
      const mine = archGradients(w, xs, labels, B, path);
      await tf.setBackend('cpu');
      const specs = trainable(arch);
      const { value, grads } = tf.tidy(() => {
        const fixed: Record<string, tf.Tensor> = {};
        for (const s of paramSpecs(arch)) fixed[s.name] = tf.tensor(w.params[s.name], s.shape);
        const f = (...ts: tf.Tensor[]) => {
          const params = { ...fixed };
          specs.forEach((s, i) => { params[s.name] = ts[i]; });
          return tfjsLoss(arch, params, xs, labels, B);
        };
        const { value, grads } = tf.valueAndGrads(f)(specs.map((s) => fixed[s.name]));
        return { value: value.dataSync()[0], grads: grads.map((g) => g.dataSync() as Float32Array) };
      });
      expect(mine.loss).toBeCloseTo(value, 5);
      expect(Object.keys(mine.grads).sort()).toEqual(specs.map((s) => s.name).sort());
      specs.forEach((s, i) => {
        const ref = grads[i], got = mine.grads[s.name];
        const scale = Math.max(1e-6, ...Array.from(ref, Math.abs));
        let worst = 0;
        for (let j = 0; j < ref.length; j++) worst = Math.max(worst, Math.abs(got[j] - ref[j]));
        expect(worst / scale, `${s.name}: max |Δ| ${worst} vs max |g| ${scale}`).toBeLessThan(1e-3);
        expect(scale, `${s.name} has a non-zero gradient`).toBeGreaterThan(1e-6);
      });
    });

    it.each(passes(arch).filter(([, engine]) => engine === 'wasm'))(`${label}: the %s path matches central differences of tfjs's loss`, async (path) => {
      const B = 3;
      const w = weightsFor(arch, 9);
      const { xs, labels } = batch(arch, B, 13);
      const mine = archGradients(w, xs, labels, B, path);
      await tf.setBackend('cpu');
      const rand = mulberry32(17);
      // Small: with few channels the loss bends sharply (ReLU kinks after BatchNorm); float32 still resolves it.
      const eps = 3e-4;
      const lossAt = (name: string, j: number, delta: number) => tf.tidy(() => {
        const params: Record<string, tf.Tensor> = {};
        for (const s of paramSpecs(arch)) {
          const v = w.params[s.name].slice();
          if (s.name === name) v[j] += delta;
          params[s.name] = tf.tensor(v, s.shape);
        }
        return tfjsLoss(arch, params, xs, labels, B).dataSync()[0];
      });
      for (const s of trainable(arch)) {
        const n = w.params[s.name].length;
        for (let t = 0; t < 3; t++) {
          const j = Math.floor(rand() * n);
          const numeric = (lossAt(s.name, j, eps) - lossAt(s.name, j, -eps)) / (2 * eps);
          const analytic = mine.grads[s.name][j];
          expect(Math.abs(numeric - analytic), `${s.name}[${j}]: numeric ${numeric}, analytic ${analytic}`).toBeLessThan(2e-3 + 0.05 * Math.abs(analytic));
        }
      }
    });
  }
});

function toyData(arch: Architecture, n: number, seed: number): TrainData {
  // Class = which quadrant holds a bright square: learnable by a conv net in a few epochs.
  const rand = mulberry32(seed);
  const [h, w, c] = arch.input;
  const images = new Float32Array(n * h * w * c);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i % arch.classes;
    labels[i] = cls;
    const oy = cls & 1 ? h / 2 : 0, ox = cls & 2 ? w / 2 : 0;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
      const inside = y >= oy && y < oy + h / 2 && x >= ox && x < ox + w / 2;
      images[((i * h + y) * w + x) * c + ch] = (inside ? 0.7 : 0.1) + rand() * 0.2;
    }
  }
  return { images, labels, n };
}

const spec = (arch: Architecture, sparsity: number, seed = 21): CnnMemberSpec => ({
  level: sparsity ? 'p' : 'dense', member: 0, seed, arch, sparsity, epochs: 4, batchSize: 8, learningRate: 0.01,
  pruning: { begin: 0.2, end: 0.7, frequency: 3 },
});

describe('CNN training', () => {
  const lenet = lenet5Arch([12, 12, 3], 4, { conv: [4, 6], dense: [12] });
  const resnet = resnetArch([8, 8, 3], 4, { depth: 8, width: 4 });

  it('lenet5 trains on the kernels, resnet on tfjs ops (BatchNorm, strided convs and adds are not covered)', () => {
    expect(defaultCnnPath(lenet)).toBe('kernels');
    expect(defaultCnnPath(resnet)).toBe('tfjs');
    expect(cnnKernelsUnsupported(resnet)).toMatch(/BatchNorm|strided|add/);
  });

  for (const arch of [lenet, resnet]) {
    it(`${arch.name}: a pruned run ends at the exact sparsity in every conv and dense kernel (${defaultCnnPath(arch)} path)`, () => {
      const r = trainCnnMember(spec(arch, 0.75), toyData(arch, 64, 1), undefined, undefined, defaultCnnPath(arch));
      const prunable = paramSpecs(arch).filter((s) => s.prunable);
      expect(r.prunable).toEqual(prunable.map((s) => s.name));
      expect(prunable.filter((s) => s.shape.length === 4).length).toBeGreaterThanOrEqual(2);
      for (const s of prunable) {
        const p = r.weights.params[s.name];
        const zeros = p.reduce((a, v) => a + (v === 0 ? 1 : 0), 0);
        expect(zeros, s.name).toBe(p.length - Math.round(p.length * 0.25));
      }
      // Biases and BatchNorm parameters are not pruned.
      for (const s of paramSpecs(arch).filter((x) => !x.prunable && !x.name.endsWith('.mean'))) {
        const p = r.weights.params[s.name];
        if (s.name.endsWith('.bias') || s.name.endsWith('.beta')) expect(p.some((v) => v !== 0), s.name).toBe(true);
      }
      expect(r.layerSparsity.every((v, i) => Math.abs(v - (1 - Math.round(r.weights.params[r.prunable[i]].length * 0.25) / r.weights.params[r.prunable[i]].length)) < 1e-12)).toBe(true);
    });

    it(`${arch.name}: the same spec gives the same weights; another seed other weights; the loss falls`, () => {
      const data = toyData(arch, 64, 2);
      const a = trainCnnMember(spec(arch, 0), data);
      const b = trainCnnMember(spec(arch, 0), data);
      const c = trainCnnMember(spec(arch, 0, 22), data);
      for (const s of paramSpecs(arch)) expect(b.weights.params[s.name], s.name).toEqual(a.weights.params[s.name]);
      expect(c.weights.params[paramSpecs(arch)[0].name]).not.toEqual(a.weights.params[paramSpecs(arch)[0].name]);
      expect(a.finalLoss).toBeLessThan(Math.log(arch.classes) * 0.5);
      if (arch.name === 'resnet') {
        // Running BatchNorm statistics moved off their init (mean 0, variance 1).
        expect(a.weights.params['conv1.mean'].some((v) => Math.abs(v) > 1e-3)).toBe(true);
      }
    });
  }
});

describe('LeNet-5 on the WebAssembly kernels against the tfjs path', () => {
  // Odd filter and unit counts: channel tails in the pool (3 of 4 lanes), patch rows of k·c = 15, 25 and 30.
  const archs = [
    lenet5Arch([16, 16, 1], 3, { conv: [3, 5], dense: [9, 7] }),
    lenet5Arch([16, 16, 3], 4, { conv: [5, 6], dense: [9] }),
    lenet5Arch([28, 28, 1], 10),
  ];
  it.each(archs.map((a) => [a.input.join('×'), a] as const))('%s: the same loss and gradients for every parameter', (_, arch) => {
    const B = 6;
    const w = weightsFor(arch, 31);
    const { xs, labels } = batch(arch, B, 37);
    const k = archGradients(w, xs, labels, B, 'kernels');
    const t = archGradients(w, xs, labels, B, 'tfjs');
    expect(k.loss).toBeCloseTo(t.loss, 5);
    for (const s of paramSpecs(arch)) {
      const a = k.grads[s.name], b = t.grads[s.name];
      expect(a.length, s.name).toBe(b.length);
      const scale = Math.max(...Array.from(b, Math.abs));
      expect(scale, `${s.name} has a non-zero gradient`).toBeGreaterThan(1e-6);
      let worst = 0;
      for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j] - b[j]));
      expect(worst / scale, `${s.name}: max |Δ| ${worst} vs max |g| ${scale}`).toBeLessThan(1e-5);
    }
  });

  it('a few pruned training steps on both paths end at nearly the same weights', () => {
    const arch = lenet5Arch([12, 12, 3], 4, { conv: [4, 6], dense: [12] });
    const data = toyData(arch, 48, 3);
    // 6 steps; pruning to 50 % from step 1, masks every 2 steps.
    const s: CnnMemberSpec = { ...spec(arch, 0.5), epochs: 1, learningRate: 1e-3, pruning: { begin: 0.1, end: 0.6, frequency: 2 } };
    const k = trainCnnMember(s, data, undefined, undefined, 'kernels');
    const t = trainCnnMember(s, data, undefined, undefined, 'tfjs');
    expect(k.steps).toBe(6);
    expect(k.finalLoss).toBeCloseTo(t.finalLoss, 4);
    for (const p of paramSpecs(arch)) {
      const a = k.weights.params[p.name], b = t.weights.params[p.name];
      // Adam's first steps move every weight by about the learning rate whatever its gradient's
      // size, so a weight whose gradient is ~0 could differ by a step; the rest agree closely.
      let close = 0, worst = 0;
      for (let j = 0; j < a.length; j++) {
        const d = Math.abs(a[j] - b[j]);
        worst = Math.max(worst, d);
        if (d < 1e-5) close++;
      }
      expect(close / a.length, `${p.name}: ${a.length - close} weights differ by ≥ 1e-5`).toBeGreaterThan(0.98);
      expect(worst, p.name).toBeLessThan(6 * 2e-3);
      // The same weights are pruned, with the same count.
      if (p.prunable) expect(Array.from(a, (v) => v === 0), p.name).toEqual(Array.from(b, (v) => v === 0));
    }
  });

  it('a member gives the same weights whatever trained before it on the same kernels (shards train members in any order)', () => {
    const arch = lenet5Arch([12, 12, 3], 4, { conv: [4, 6], dense: [12] });
    const other = lenet5Arch([16, 16, 1], 4, { conv: [7, 5], dense: [10] });
    const data = toyData(arch, 32, 5), otherData = toyData(other, 32, 6);
    const first = trainCnnMember(spec(arch, 0.5), data, undefined, undefined, 'kernels');
    trainCnnMember(spec(other, 0.9, 3), otherData, undefined, undefined, 'kernels');
    trainCnnMember(spec(arch, 0, 4), data, undefined, undefined, 'kernels');
    const again = trainCnnMember(spec(arch, 0.5), data, undefined, undefined, 'kernels');
    for (const p of paramSpecs(arch)) expect(again.weights.params[p.name], p.name).toEqual(first.weights.params[p.name]);
    expect(again.finalLoss).toBe(first.finalLoss);
  });
});
