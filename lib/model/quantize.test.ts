import { describe, expect, it } from 'vitest';
import { toDenseModel, toMlpWeights } from './convert.ts';
import { roundHalfAway } from './int8.ts';
import { argmax } from './kernels.ts';
import { createPredictor } from './predictor.ts';
import { quantizeInt8Dynamic, quantizeInt8Full } from './quantize.ts';
import { plantedTask, randomImages, randomMlp } from './testing.ts';
import type { Int8DynamicModel, Int8FullModel, MlpWeights } from './types.ts';

/** Float forward pass (float64 sums, float32 activations): every layer's output, pre-ReLU. */
function floatPreActivations(w: MlpWeights, x: Float32Array): Float32Array[] {
  const out: Float32Array[] = [];
  let a: Float32Array = x;
  w.layers.forEach((layer, l) => {
    const y = new Float32Array(layer.outDim);
    for (let o = 0; o < layer.outDim; o++) {
      let s = layer.bias[o];
      for (let i = 0; i < layer.inDim; i++) s += a[i] * layer.weights[i * layer.outDim + o];
      y[o] = s;
    }
    out.push(y);
    a = l < w.layers.length - 1 ? y.map((v) => Math.max(v, 0)) : y;
  });
  return out;
}

/**
 * A per-logit bound on |quantized − float|, propagated layer by layer from the quantization
 * steps (derivation in each branch). `e` bounds the error of the current layer's input.
 * Terms: input rounding, weight rounding (≤ s_w/2 per weight), bias rounding and output
 * requantization (int8-full), clipping outside a calibrated range (int8-full), and a 1e-6
 * relative allowance for float32 storage.
 */
function errorBound(model: Int8DynamicModel | Int8FullModel, w: MlpWeights, x: Float32Array): Float64Array {
  const pre = floatPreActivations(w, x);
  const L = w.layers.length;
  let input: Float32Array = x;
  let e: Float64Array;
  if (model.kind === 'int8-full') {
    // layer 0 input code: |x̃ − x| ≤ s/2 inside the representable range, plus the clipping
    const { scale: s, zeroPoint: zp } = model.activations[0];
    const lo = (-128 - zp) * s;
    const hi = (127 - zp) * s;
    e = Float64Array.from(x, (v) => s / 2 + Math.max(0, lo - v, v - hi));
  } else {
    e = new Float64Array(x.length);
  }
  for (let l = 0; l < L; l++) {
    const { inDim, outDim } = w.layers[l];
    const { weights: qw, weightScales: sw } = model.layers[l];
    const next = new Float64Array(outDim);
    // dynamic: the quantized path's input x̂ has |x̂ − x| ≤ e, so scale_x = max|x̂|/127 ≤ sxUp,
    // and its int8 rounding adds ≤ scale_x / 2 per input.
    let sxUp = 0;
    for (let i = 0; i < inDim; i++) sxUp = Math.max(sxUp, (Math.abs(input[i]) + e[i]) / 127);
    for (let o = 0; o < outDim; o++) {
      // |Σ x̃ w̃ − Σ x w| ≤ Σ |x̃ − x|·|w̃| + |x|·|w̃ − w|
      let E = 0;
      for (let i = 0; i < inDim; i++) {
        const wq = Math.abs(qw[i * outDim + o] * sw[o]);
        const ex = model.kind === 'int8-full' ? e[i] : e[i] + sxUp / 2;
        E += ex * wq + Math.abs(input[i]) * (sw[o] / 2);
      }
      const y = pre[l][o];
      const last = l === L - 1;
      if (model.kind === 'int8-full') {
        const sIn = model.activations[l].scale;
        const { scale: sOut, zeroPoint: zpOut } = model.activations[l + 1];
        E += (sIn * sw[o]) / 2 + sOut / 2; // int32 bias rounding, requantization rounding
        const hi = (127 - zpOut) * sOut;
        const lo = last ? (-128 - zpOut) * sOut : 0; // hidden: the fused ReLU clamps at 0
        E += Math.max(0, y - hi) + (last ? Math.max(0, lo - y) : 0);
      }
      next[o] = E + 1e-6 * (Math.abs(y) + 1);
    }
    e = next;
    input = l < L - 1 ? pre[l].map((v) => Math.max(v, 0)) : pre[l];
  }
  return e;
}

describe('int8 quantization agrees with the float net', () => {
  const task = plantedTask(600, 21);
  const calibration = task.images.subarray(0, 100 * 64); // the first 100 "training" images
  const float = createPredictor(toDenseModel(task.net));
  const floatLabels = float.predictBatch(task.images, task.n);

  it('the planted task is learnable but not easy for the float net', () => {
    let right = 0;
    for (let k = 0; k < task.n; k++) if (floatLabels[k] === task.labels[k]) right++;
    expect(right / task.n).toBeGreaterThan(0.8);
    expect(right / task.n).toBeLessThan(0.97); // and not trivially easy: many images sit near a boundary
    expect(new Set(floatLabels).size).toBe(10); // not a constant classifier
  });

  it.each([
    ['int8-dynamic', quantizeInt8Dynamic(task.net)],
    ['int8-full', quantizeInt8Full(task.net, calibration, 100)],
    ['int8-full (pre-ReLU ranges)', quantizeInt8Full(task.net, calibration, 100, { hiddenRange: 'pre-relu' })],
  ] as const)('%s: ≥ 95 % argmax agreement, logits within the propagated error bound', (_, model) => {
    const q = createPredictor(model);
    const labels = q.predictBatch(task.images, task.n);
    let agree = 0;
    let bounds = 0;
    let gaps = 0;
    const out = new Float32Array(10);
    for (let k = 0; k < task.n; k++) {
      if (labels[k] === floatLabels[k]) agree++;
      const x = task.images.subarray(k * 64, (k + 1) * 64);
      const f = float.logits(x);
      q.logits(x, out);
      const bound = errorBound(model, task.net, x);
      for (let o = 0; o < 10; o++) {
        if (!(Math.abs(out[o] - f[o]) <= bound[o])) {
          expect.fail(`image ${k} logit ${o}: |${out[o]} − ${f[o]}| exceeds the bound ${bound[o]}`);
        }
      }
      // the quantized logits are not just the float ones (the bound is doing work)
      bounds += Math.max(...bound);
      const sorted = [...f].sort((a, b) => b - a);
      gaps += sorted[0] - sorted[1];
    }
    expect(agree / task.n).toBeGreaterThanOrEqual(0.95);
    // A bound this loose would not be worth checking: it stays well below the typical margin.
    expect(bounds / task.n).toBeLessThan(0.5 * (gaps / task.n));
  });

  it.each([
    ['int8-dynamic', (w: MlpWeights) => quantizeInt8Dynamic(w)],
    ['int8-full', (w: MlpWeights) => quantizeInt8Full(w, randomImages(100, 784, 23), 100)],
  ] as const)('%s: stays within the bound on a random LeNet-300-100 too', (_, quantize) => {
    const w = randomMlp([784, 300, 100, 10], 22);
    const model = quantize(w);
    const q = createPredictor(model);
    const float = createPredictor(toDenseModel(w));
    const xs = randomImages(30, 784, 24); // unseen images
    let agree = 0;
    for (let k = 0; k < 30; k++) {
      const x = xs.subarray(k * 784, (k + 1) * 784);
      const got = q.logits(x);
      const want = float.logits(x);
      const bound = errorBound(model, w, x);
      for (let o = 0; o < 10; o++) expect(Math.abs(got[o] - want[o])).toBeLessThanOrEqual(bound[o]);
      if (argmax(got) === argmax(want)) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(27);
  });
});

describe('int8 weights', () => {
  it('are symmetric per output channel, rounding half away from zero', () => {
    // Column maxima 127/128 and 127/256 give the exact scales 1/128 and 1/256, so
    // −0.49609375 / (1/128) = −63.5 is a true tie: −64 (Math.round would give −63).
    const w: MlpWeights = {
      dims: [2, 3],
      layers: [{ inDim: 2, outDim: 3, weights: Float32Array.from([127 / 128, 0.25, 0, -0.49609375, -127 / 256, 0]), bias: new Float32Array(3) }],
    };
    const { weights, weightScales } = quantizeInt8Dynamic(w).layers[0];
    expect([...weightScales]).toEqual([1 / 128, 1 / 256, 1]); // all-zero column → scale 1
    expect([...weights]).toEqual([127, 64, 0, -64, -127, 0]);
    expect(roundHalfAway(-63.5)).toBe(-64);
    expect(roundHalfAway(2.5)).toBe(3);
    expect(roundHalfAway(0.49999999999999994)).toBe(0);
  });
});

describe('int8-dynamic arithmetic, by hand', () => {
  it('quantizes each input vector on the fly', () => {
    // W = [[127/128, 0.25], [−0.5, −127/256]], b = [0, 0.1], x = [0.5, −0.25]
    //   qw = [[127, 64], [−64, −127]], s_w = [1/128, 1/256]
    //   max|x| = 0.5, s_x = 0.5/127, qx = [127, round(−63.5) = −64]
    //   acc = [127·127 + (−64)(−64), 127·64 + (−64)(−127)] = [20225, 16256]
    //   y = [20225 · (0.5/127 · 1/128), 16256 · (0.5/127 · 1/256) + 0.1] = [0.62207…, 0.35]
    // (float: [0.62109375, 0.35])
    const w: MlpWeights = {
      dims: [2, 2],
      layers: [{ inDim: 2, outDim: 2, weights: Float32Array.from([127 / 128, 0.25, -0.5, -127 / 256]), bias: Float32Array.from([0, 0.1]) }],
    };
    const model = quantizeInt8Dynamic(w);
    expect([...model.layers[0].weights]).toEqual([127, 64, -64, -127]);
    const y = createPredictor(model).logits(Float32Array.from([0.5, -0.25]));
    expect(y[0]).toBe(Math.fround(20225 * ((0.5 / 127) * (1 / 128))));
    expect(y[1]).toBe(Math.fround(16256 * ((0.5 / 127) * (1 / 256)) + Math.fround(0.1)));
    expect(y[0]).toBeCloseTo(20225 / 32512, 6);
    expect(y[1]).toBeCloseTo(0.35, 6);
  });
});

describe('int8-full arithmetic, by hand', () => {
  // A 2→2→2 model written down directly, with power-of-two scales so every step is exact.
  //   input:   s = 1/128, zp = −128
  //   layer 0: qw = [[2, −1], [3, −4]] (row i = input), s_w = [1/2, 1/4], qb = [10, −20]
  //   hidden:  s = 1/16, zp = −100   (a pre-ReLU style range: codes below −100 are negative)
  //   layer 1: qw = [[1, −2], [−3, 1]], s_w = [1/2, 1/2], qb = [0, 8]
  //   logits:  s = 1/8, zp = 0
  const model: Int8FullModel = {
    kind: 'int8-full',
    dims: [2, 2, 2],
    layers: [
      { weights: Int8Array.from([2, -1, 3, -4]), weightScales: Float32Array.from([0.5, 0.25]), bias: Int32Array.from([10, -20]) },
      { weights: Int8Array.from([1, -2, -3, 1]), weightScales: Float32Array.from([0.5, 0.5]), bias: Int32Array.from([0, 8]) },
    ],
    activations: [
      { scale: 1 / 128, zeroPoint: -128 },
      { scale: 1 / 16, zeroPoint: -100 },
      { scale: 1 / 8, zeroPoint: 0 },
    ],
  };

  it('follows the documented integer steps', () => {
    // x = [0.5, 0.25] → q = round(x · 128) − 128 = [−64, −96]; q − zp = [64, 32]
    // layer 0: acc = [64·2 + 32·3 + 10, 64·(−1) + 32·(−4) − 20] = [234, −212]
    //   M = s_in · s_w / s_out = [(1/128)(1/2)·16, (1/128)(1/4)·16] = [1/16, 1/32]
    //   round(234/16 = 14.625) = 15 → 15 − 100 = −85
    //   round(−212/32 = −6.625) = −7 → −107, below zp: the fused ReLU clamps it to −100 (real 0)
    // layer 1: inputs q − zp = [15, 0]
    //   acc = [15·1 + 0 + 0, 15·(−2) + 0 + 8] = [15, −22]
    //   M = (1/16)(1/2)·8 = 1/4 → round(3.75) = 4, round(−5.5) = −6 (a tie: away from zero)
    //   → codes [4, −6]
    // logits = (q − 0) · 1/8 = [0.5, −0.75]
    const y = createPredictor(model).logits(Float32Array.from([0.5, 0.25]));
    expect([...y]).toEqual([0.5, -0.75]);
    expect(createPredictor(model).predictBatch(Float32Array.from([0.5, 0.25]), 1)[0]).toBe(0);
  });

  it('rounds requantization ties away from zero (Math.round would not)', () => {
    // x = [0.5, 0] → q − zp = [64, 0]: layer 0 acc = [138, −84]
    //   138/16 = 8.625 → 9 → −91;  −84/32 = −2.625 → −3 → −103 → ReLU → −100
    // layer 1: inputs [9, 0]: acc = [9, −18 + 8 = −10] → ·1/4 = [2.25, −2.5] → [2, −3]
    // and x = [0, 0.5] → [0, 64]: acc = [3·64 + 10 = 202, −4·64 − 20 = −276]
    //   202/16 = 12.625 → 13 → −87; −276/32 = −8.625 → −9 → clamped to −100
    // layer 1: inputs [13, 0]: acc = [13, −26 + 8 = −18] → [3.25, −4.5] → [3, −5]
    const p = createPredictor(model);
    expect([...p.logits(Float32Array.from([0.5, 0]))]).toEqual([2 / 8, -3 / 8]);
    expect([...p.logits(Float32Array.from([0, 0.5]))]).toEqual([3 / 8, -5 / 8]);
    // x = [31/128, 0] → q − zp = 31: acc0 = 62 + 10 = 72 → 72/16 = 4.5 → 5
    //   → layer 1 inputs [5, 0]: acc = [5, −10 + 8 = −2] → [1.25, −0.5] → [1, −1] (not −0)
    expect([...p.logits(Float32Array.from([31 / 128, 0]))]).toEqual([1 / 8, -1 / 8]);
  });

  it('clips inputs outside the calibrated range', () => {
    // x = 3 → round(3 · 128) − 128 = 256 → clamped to 127 (real 255/128)
    const p = createPredictor(model);
    const big = p.logits(Float32Array.from([3, 0]));
    const max = p.logits(Float32Array.from([255 / 128, 0]));
    expect([...big]).toEqual([...max]);
  });
});

describe('int8-full calibration, by hand', () => {
  // W0 = [[127/128, −0.49609375], [0.25, 127/128]], b0 = [0.1, −0.2]; W1 = identity·0.5, b1 = 0
  // Calibration images a = [1, 0.5], b = [0, 1]:
  //   pre0(a) = [127/128 + 0.125 + 0.1, −0.49609375 + 0.49609375 − 0.2] = [1.2171875, −0.2]
  //   pre0(b) = [0.25 + 0.1, 127/128 − 0.2]                             = [0.35, 0.7921875]
  //   relu → logits pre1 = 0.5 · relu(pre0): a → [0.60859375, 0], b → [0.175, 0.39609375]
  const w: MlpWeights = {
    dims: [2, 2, 2],
    layers: [
      { inDim: 2, outDim: 2, weights: Float32Array.from([127 / 128, -0.49609375, 0.25, 127 / 128]), bias: Float32Array.from([0.1, -0.2]) },
      { inDim: 2, outDim: 2, weights: Float32Array.from([0.5, 0, 0, 0.5]), bias: Float32Array.from([0, 0]) },
    ],
  };
  const calibration = Float32Array.from([1, 0.5, 0, 1]);

  it('derives scales and zero points from the widened ranges', () => {
    const m = quantizeInt8Full(w, calibration, 2);
    // input: fixed [0, 1] → s = 1/255, zp = round(−128 − 0) = −128
    expect(m.activations[0]).toEqual({ scale: Math.fround(1 / 255), zeroPoint: -128 });
    // hidden (post-ReLU): [0, 1.2171875 (as float32)] → zp = −128
    expect(m.activations[1]).toEqual({ scale: Math.fround(Math.fround(1.2171875) / 255), zeroPoint: -128 });
    // logits: [0, 0.60859375] (min widened from 0 to include 0) → zp = −128
    expect(m.activations[2]).toEqual({ scale: Math.fround(Math.fround(0.60859375) / 255), zeroPoint: -128 });
    // weights: scales 1/128 both columns; −63.5 → −64; 0.25·128 = 32
    expect([...m.layers[0].weightScales]).toEqual([1 / 128, 1 / 128]);
    expect([...m.layers[0].weights]).toEqual([127, -64, 32, 127]);
    // bias: round(0.1 / (s_in/128)) ≈ 0.1 · 32640 = 3264, −0.2 → −6528
    expect([...m.layers[0].bias]).toEqual([3264, -6528]);
    expect([...m.layers[1].bias]).toEqual([0, 0]);
  });

  it('with pre-ReLU ranges, gives the hidden layer a zero point above −128', () => {
    const m = quantizeInt8Full(w, calibration, 2, { hiddenRange: 'pre-relu' });
    // hidden: [−0.2, 1.2171875] → s = 1.4171875/255, zp = round(−128 + 0.2/s) = round(−92.01…) = −92
    const s = Math.fround((Math.fround(1.2171875) - Math.fround(-0.2)) / 255);
    expect(m.activations[1]).toEqual({ scale: s, zeroPoint: -92 });
    expect(-128 + Math.fround(0.2) / s).toBeCloseTo(-92.01, 2);
  });

  it('predicts the calibration images like the float net', () => {
    const m = quantizeInt8Full(w, calibration, 2);
    const q = createPredictor(m);
    const f = createPredictor(toDenseModel(w));
    expect([...q.predictBatch(calibration, 2)]).toEqual([...f.predictBatch(calibration, 2)]);
    // and the dequantized weights are the quantization grid's
    expect([...toMlpWeights(m).layers[0].weights]).toEqual([127 / 128, -64 / 128, 32 / 128, 127 / 128]);
  });

  it('rejects a calibration set that is too small', () => {
    expect(() => quantizeInt8Full(w, calibration, 3)).toThrow('calibration holds 4 values, expected 3 × 2');
    expect(() => quantizeInt8Full(w, calibration, 0)).toThrow('need at least 1 calibration image');
  });
});
