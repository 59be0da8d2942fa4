/**
 * The MLP training kernels (lib/model/wasm/mlp-train.ts) against a float64 forward and backward
 * pass written from the definition, over shapes that reach every code path: widths below, at and
 * above one register block (48) and not multiples of 4, inputs with zeros (skipped) and without,
 * one and three layers; and the optimizer's pass over pruned weights.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../lib/random.ts';
import type { MlpWeights } from '../lib/model/types.ts';
import type { WasmKernels } from '../lib/model/wasm/runtime.ts';
import { WasmMlpTrainer } from '../lib/model/wasm/mlp-train.ts';
import { installNodeKernels } from './wasm-kernels.ts';

let rt: WasmKernels;
beforeAll(async () => {
  rt = await installNodeKernels();
});

function randomNet(dims: number[], seed: number): MlpWeights {
  const rand = mulberry32(seed);
  return {
    dims,
    layers: dims.slice(1).map((outDim, l) => ({
      inDim: dims[l], outDim,
      weights: Float32Array.from({ length: dims[l] * outDim }, () => (rand() * 2 - 1) / Math.sqrt(dims[l])),
      bias: Float32Array.from({ length: outDim }, () => (rand() - 0.5) * 0.2),
    })),
  };
}

/** Mean softmax cross-entropy of a ReLU MLP and its gradients, in float64 from the definition. */
function reference(net: MlpWeights, x: Float32Array, labels: number[]) {
  const B = labels.length, L = net.layers.length;
  const acts: Float64Array[] = [Float64Array.from(x)];
  for (const [l, { inDim, outDim, weights, bias }] of net.layers.entries()) {
    const a = acts[l], y = new Float64Array(B * outDim);
    for (let b = 0; b < B; b++) {
      for (let o = 0; o < outDim; o++) {
        let s = bias[o];
        for (let i = 0; i < inDim; i++) s += a[b * inDim + i] * weights[i * outDim + o];
        y[b * outDim + o] = l < L - 1 ? Math.max(0, s) : s;
      }
    }
    acts.push(y);
  }
  const C = net.dims[L], z = acts[L];
  let loss = 0;
  let dz = new Float64Array(B * C);
  for (let b = 0; b < B; b++) {
    const row = Array.from(z.subarray(b * C, (b + 1) * C));
    const max = Math.max(...row), sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
    loss += Math.log(sum) + max - row[labels[b]];
    row.forEach((v, j) => { dz[b * C + j] = (Math.exp(v - max) / sum - (j === labels[b] ? 1 : 0)) / B; });
  }
  const dW: Float64Array[] = [], db: Float64Array[] = [];
  for (let l = L - 1; l >= 0; l--) {
    const { inDim, outDim, weights } = net.layers[l], a = acts[l];
    dW[l] = new Float64Array(inDim * outDim);
    db[l] = new Float64Array(outDim);
    for (let b = 0; b < B; b++) {
      for (let o = 0; o < outDim; o++) {
        db[l][o] += dz[b * outDim + o];
        for (let i = 0; i < inDim; i++) dW[l][i * outDim + o] += a[b * inDim + i] * dz[b * outDim + o];
      }
    }
    if (l === 0) break;
    const da = new Float64Array(B * inDim);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < inDim; i++) {
        if (!(a[b * inDim + i] > 0)) continue; // the ReLU that made a
        for (let o = 0; o < outDim; o++) da[b * inDim + i] += dz[b * outDim + o] * weights[i * outDim + o];
      }
    }
    dz = da;
  }
  return { loss: loss / B, dW, db };
}

const shapes: [string, number[], number][] = [
  ['one layer', [7, 3], 0.5],
  ['widths not multiples of 4', [13, 9, 6, 5], 0.5],
  ['several register blocks per row', [50, 130, 61, 10], 0.5],
  ['dense inputs', [20, 52, 10], 0],
  ['LeNet-300-100', [784, 300, 100, 10], 0.5],
];

describe('MLP training kernels', () => {
  it.each(shapes)('%s %j: loss and every gradient as the float64 definition', (_, dims, zeroFraction) => {
    const rand = mulberry32(dims.length * 100 + dims[1]);
    const net = randomNet(dims, dims[1]);
    const n = 40, B = 9;
    const images = Float32Array.from({ length: n * dims[0] }, () => (rand() < zeroFraction ? 0 : rand()));
    const labels = Uint8Array.from({ length: n }, () => Math.floor(rand() * dims[dims.length - 1]));
    const rows = [3, 17, 0, 39, 8, 8, 21, 5, 30]; // a repeated row too, as batches wrapping around the set have
    const trainer = new WasmMlpTrainer(rt, net, B, { learningRate: 1e-3 });
    try {
      const got = trainer.gradients(images, labels, rows);
      const x = new Float32Array(B * dims[0]);
      rows.forEach((r, j) => x.set(images.subarray(r * dims[0], (r + 1) * dims[0]), j * dims[0]));
      const ref = reference(net, x, rows.map((r) => labels[r]));
      expect(got.loss).toBeCloseTo(ref.loss, 5);
      for (let l = 0; l < net.layers.length; l++) {
        // Float32 sums of at most max(inDim, B) + 1 terms of these magnitudes.
        const scale = [...ref.dW[l], ...ref.db[l]].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        expect(got.dW[l].length).toBe(ref.dW[l].length);
        let worst = 0;
        ref.dW[l].forEach((v, i) => { worst = Math.max(worst, Math.abs(got.dW[l][i] - v)); });
        ref.db[l].forEach((v, o) => { worst = Math.max(worst, Math.abs(got.db[l][o] - v)); });
        expect(worst / scale, `layer ${l}: worst error relative to the largest gradient`).toBeLessThan(2e-5);
        expect(scale, 'the gradient carries signal').toBeGreaterThan(1e-3);
      }
    } finally {
      trainer.release();
    }
  });

  it('gives back the weights it was given, and frees its memory', () => {
    const net = randomNet([30, 17, 6], 4);
    const before = rt.bytesInUse;
    const trainer = new WasmMlpTrainer(rt, net, 8, { learningRate: 1e-3 });
    const out = trainer.weights();
    expect(out.dims).toEqual([30, 17, 6]);
    out.layers.forEach((l, i) => {
      expect(l.weights).toEqual(net.layers[i].weights);
      expect(l.bias).toEqual(net.layers[i].bias);
    });
    trainer.release();
    expect(rt.bytesInUse).toBe(before);
  });

  it('keeps masked weights at +0 through updates, and the input gradient reads the masked weights', () => {
    const dims = [10, 12, 4];
    const net = randomNet(dims, 6);
    const rand = mulberry32(8);
    const images = Float32Array.from({ length: 16 * 10 }, () => rand());
    const labels = Uint8Array.from({ length: 16 }, (_, i) => i % 4);
    const rows = Array.from({ length: 8 }, (_, i) => i);
    const trainer = new WasmMlpTrainer(rt, net, 8, { learningRate: 0.05 });
    try {
      const masks = net.layers.map((l) => Float32Array.from({ length: l.inDim * l.outDim }, (_, i) => (i % 3 === 1 ? 0 : 1)));
      masks.forEach((m, l) => trainer.setMask(l, m));
      for (let s = 0; s < 5; s++) trainer.step(images, labels, rows);
      const trained = trainer.weights();
      trained.layers.forEach((l, i) => {
        let moved = 0;
        l.weights.forEach((w, j) => {
          if (masks[i][j] === 0) expect(Object.is(w, 0), `layer ${i} weight ${j}`).toBe(true);
          else if (w !== net.layers[i].weights[j]) moved++;
        });
        expect(moved, `kept weights of layer ${i} that moved`).toBeGreaterThan(l.weights.length / 2);
      });
      // The gradients now are those of the masked network, so the transposed copy was masked too.
      const x = new Float32Array(8 * 10);
      rows.forEach((r, j) => x.set(images.subarray(r * 10, (r + 1) * 10), j * 10));
      const ref = reference(trained, x, rows.map((r) => labels[r]));
      const got = trainer.gradients(images, labels, rows);
      for (let i = 0; i < ref.dW[0].length; i++) expect(got.dW[0][i]).toBeCloseTo(ref.dW[0][i], 6);
    } finally {
      trainer.release();
    }
  });

  it('refuses a batch of the wrong size and a mask of the wrong shape', () => {
    const trainer = new WasmMlpTrainer(rt, randomNet([4, 3], 1), 2, { learningRate: 1e-3 });
    try {
      expect(() => trainer.step(new Float32Array(12), new Uint8Array(3), [0, 1, 2])).toThrow(/takes 2 rows, got 3/);
      expect(() => trainer.setMask(0, new Float32Array(5))).toThrow(/mask of layer 0 has 5 values, the layer 12/);
    } finally {
      trainer.release();
    }
  });
});
