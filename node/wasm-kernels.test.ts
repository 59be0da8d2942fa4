/**
 * The WebAssembly kernels against the JS reference kernels (lib/model/kernels.ts), loaded the
 * way Node loads them. Which results must be bit-exact and which only close is stated in
 * lib/model/wasm/source.ts; each is checked here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  argmax,
  createPredictor,
  predictEach,
  decodeFloat16Array,
  quantizeFloat16,
  quantizeInt8Dynamic,
  quantizeInt8Full,
  toDenseModel,
  toSparseModel,
  type CompactModel,
  type MlpWeights,
} from '../lib/model/index.ts';
import { plantedTask, pruneRandomly, randomImages, randomMlp } from '../lib/model/testing.ts';
import { loadWasmModel } from '../lib/model/wasm/predictor.ts';
import { wasmKernels, type WasmKernels } from '../lib/model/wasm/runtime.ts';
import { installNodeKernels } from './wasm-kernels.ts';

const LENET = [784, 300, 100, 10];
/** Odd widths: an odd input count (int8 pairs), partial blocks of every size, more than one block. */
const ODD = [37, 101, 53, 3];
/** Panel edges: a width of exactly one panel (no last panel), a last panel of whole vectors, one below a panel. */
const EDGES = [96, 48, 32, 47, 5];

let rt: WasmKernels;
beforeAll(async () => {
  rt = await installNodeKernels();
});

function allLogits(model: CompactModel, xs: Float32Array, n: number, kernels: 'auto' | 'js'): Float32Array[] {
  const p = createPredictor(model, { kernels });
  const d = p.dims[0];
  const out = Array.from({ length: n }, (_, k) => p.logits(xs.slice(k * d, (k + 1) * d)));
  p.release();
  return out;
}

function kinds(w: MlpWeights, xs: Float32Array): Record<string, CompactModel> {
  return {
    'dense-f32': toDenseModel(w),
    'sparse-f32 (50 %)': toSparseModel(pruneRandomly(w, 0.5, 7)),
    'sparse-f32 (20 %, stored dense)': toSparseModel(pruneRandomly(w, 0.2, 7)),
    f16: quantizeFloat16(w),
    'int8-dynamic': quantizeInt8Dynamic(w),
    'int8-full': quantizeInt8Full(w, xs, Math.min(50, xs.length / w.dims[0])),
  };
}

describe('WebAssembly kernels', () => {
  it('are installed on Node and run every kind', () => {
    expect(wasmKernels()).toBe(rt);
    const w = randomMlp(ODD, 1);
    const xs = randomImages(8, ODD[0], 2);
    for (const model of Object.values(kinds(w, xs))) expect(createPredictor(model).kernels).toBe('wasm');
  });

  for (const dims of [ODD, LENET]) {
    it(`int8 kinds are bit-exact with the JS kernels (${dims.join('-')})`, () => {
      const n = dims === LENET ? 60 : 200;
      const w = randomMlp(dims, 3);
      const xs = randomImages(n, dims[0], 4);
      for (const model of [quantizeInt8Dynamic(w), quantizeInt8Full(w, xs, 50)]) {
        const js = allLogits(model, xs, n, 'js');
        const wa = allLogits(model, xs, n, 'auto');
        for (let k = 0; k < n; k++) expect(Array.from(wa[k]), `${model.kind} image ${k}`).toEqual(Array.from(js[k]));
      }
    });

    it(`float kinds stay within float32 rounding of the float64 JS kernels (${dims.join('-')})`, () => {
      const n = dims === LENET ? 60 : 200;
      const w = randomMlp(dims, 5);
      const xs = randomImages(n, dims[0], 6);
      for (const [name, model] of Object.entries(kinds(w, xs))) {
        if (model.kind.startsWith('int8')) continue;
        const js = allLogits(model, xs, n, 'js');
        const wa = allLogits(model, xs, n, 'auto');
        for (let k = 0; k < n; k++) {
          const scale = Math.max(1, ...js[k].map(Math.abs));
          for (let o = 0; o < js[k].length; o++) expect(Math.abs(wa[k][o] - js[k][o]), `${name} image ${k}`).toBeLessThan(1e-5 * scale);
        }
      }
    });
  }

  it('CSR gives the dense kernel\'s logits bit for bit; f16 those of its decoded weights', () => {
    const w = pruneRandomly(randomMlp(LENET, 8), 0.9, 9);
    const xs = randomImages(40, 784, 10);
    expect(allLogits(toSparseModel(w), xs, 40, 'auto')).toEqual(allLogits(toDenseModel(w), xs, 40, 'auto'));
    const f16 = quantizeFloat16(w);
    const decoded = toDenseModel({ dims: w.dims, layers: f16.layers.map((l, i) => ({ inDim: w.dims[i], outDim: w.dims[i + 1], weights: decodeFloat16Array(l.weights), bias: l.bias })) });
    expect(allLogits(f16, xs, 40, 'auto')).toEqual(allLogits(decoded, xs, 40, 'auto'));
  });

  /** Logits of images 0 … n−1 run as one batch of n (tiles, lanes), [n × classes]. */
  function batchLogits(model: CompactModel, xs: Float32Array, n: number): Float32Array {
    if (model.arch !== undefined) throw new Error('MLP models only');
    const wm = loadWasmModel(rt, model);
    const out = new Float32Array(n * model.dims[model.dims.length - 1]);
    wm.forward(xs, 0, n, out, null, 0);
    wm.release();
    return out;
  }

  for (const dims of [ODD, EDGES, LENET]) {
    it(`a batch gives the logits of one image at a time, bit for bit, at every tile and lane width (${dims.join('-')})`, () => {
      const w = randomMlp(dims, 21);
      const xs = randomImages(37, dims[0], 22);
      for (const [name, model] of Object.entries(kinds(w, xs))) {
        const single = allLogits(model, xs, 37, 'auto');
        // 1 image; 2, 3, 5, 8 and 16 images (4, 8 and 16 lanes for CSR); 37 = two full tiles and a partial one.
        for (const n of [1, 2, 3, 5, 8, 16, 37]) {
          const batch = batchLogits(model, xs, n);
          const C = dims[dims.length - 1];
          for (let k = 0; k < n; k++) expect(Array.from(batch.subarray(k * C, (k + 1) * C)), `${name}, batch of ${n}, image ${k}`).toEqual(Array.from(single[k]));
        }
      }
    });
  }

  it('a tile walks a wide layer in slices of rows, giving one image\'s logits bit for bit, also where whole slices of an image are zero', () => {
    // 1000 inputs: 5 slices of 200 rows for float32 panels, 3 of 334 for f16 (mlp-source.ts SLICE_BYTES).
    const dims = [1000, 60, 10];
    const w = randomMlp(dims, 31);
    const n = 20;
    const xs = randomImages(n, 1000, 32);
    const zero = (k: number, from: number, to: number) => xs.fill(0, k * 1000 + from, k * 1000 + to);
    zero(0, 0, 1000); // all zero: every slice empty
    zero(1, 0, 800); // only the last slice
    zero(2, 200, 1000); // only the first
    zero(3, 200, 400); // a hole of one whole slice
    zero(4, 333, 668); // f16's middle slice
    for (const [name, model] of Object.entries(kinds(w, xs))) {
      const single = allLogits(model, xs, n, 'auto');
      // 2 and 5 images: the f16 kernel itself in slices; 16 and 20: f16 and CSR widened to float32 panels.
      for (const m of [2, 5, 16, 20]) {
        const batch = batchLogits(model, xs, m);
        for (let k = 0; k < m; k++) expect(Array.from(batch.subarray(k * 10, (k + 1) * 10)), `${name}, batch of ${m}, image ${k}`).toEqual(Array.from(single[k]));
      }
    }
  });

  it('f16 gives the logits of its decoded weights bit for bit, in tiles and one image, also where activations pass 2^15', () => {
    const w = randomMlp(LENET, 32);
    const n = 21;
    // Images 3, 10 and 17 scaled up so that their activations take f16's exact path (x · 2^112 would overflow).
    const xs = Float32Array.from(randomImages(n, 784, 33), (v, k) => (Math.floor(k / 784) % 7 === 3 ? v * 1e5 : v));
    const f16 = quantizeFloat16(w);
    const decoded = toDenseModel({ dims: w.dims, layers: f16.layers.map((l, i) => ({ inDim: w.dims[i], outDim: w.dims[i + 1], weights: decodeFloat16Array(l.weights), bias: l.bias })) });
    const want = batchLogits(decoded, xs, n);
    expect(Array.from(batchLogits(f16, xs, n))).toEqual(Array.from(want));
    const single = allLogits(f16, xs, n, 'auto');
    for (let k = 0; k < n; k++) expect(Array.from(single[k]), `image ${k}`).toEqual(Array.from(want.subarray(k * 10, (k + 1) * 10)));
    expect(Math.max(...want.map(Math.abs))).toBeGreaterThan(2 ** 15); // the large images do reach the exact path
  });

  it('f16 batches widen into the shared scratch: two models in turn, batches and single images, keep their own logits', () => {
    const [a, b] = [quantizeFloat16(randomMlp(LENET, 41)), quantizeFloat16(randomMlp(LENET, 42))];
    // A batch of at least a tile widens; 20 leaves a partial tile too.
    const n = 20;
    const xs = randomImages(n, 784, 43);
    const want = [a, b].map((m) => allLogits(m, xs, n, 'auto'));
    const [wa, wb] = [loadWasmModel(rt, a), loadWasmModel(rt, b)];
    try {
      for (let round = 0; round < 2; round++) {
        for (const [k, wm] of [wa, wb].entries()) {
          const out = new Float32Array(n * 10);
          wm.forward(xs, 0, n, out, null, 0);
          for (let i = 0; i < n; i++) expect(Array.from(out.subarray(i * 10, (i + 1) * 10)), `model ${k}, image ${i}`).toEqual(Array.from(want[k][i]));
        }
        // One image after both batches (b's widened weights last in the scratch): each model's own.
        const x = rt.put(xs.subarray(0, 784));
        try {
          for (const [k, wm] of [wa, wb].entries()) expect(wm.label(x), `model ${k}`).toBe(argmax(want[k][0]));
        } finally {
          rt.release(x);
        }
      }
    } finally {
      wa.release();
      wb.release();
    }
  });

  it('CSR tiles give the dense kernel\'s logits bit for bit at 50, 90 and 99 % sparsity', () => {
    for (const s of [0.5, 0.9, 0.99]) {
      const w = pruneRandomly(randomMlp(LENET, 23), s, 24);
      const xs = randomImages(21, 784, 25);
      expect(Array.from(batchLogits(toSparseModel(w), xs, 21)), `sparsity ${s}`).toEqual(Array.from(batchLogits(toDenseModel(w), xs, 21)));
    }
  });

  it('int8 kinds stay bit-exact with the JS kernels on negative, huge, infinite and NaN inputs, one image and in tiles', () => {
    const w = randomMlp(ODD, 26);
    const n = 19;
    const xs = Float32Array.from(randomImages(n, ODD[0], 27), (v, k) => (k % 3 === 0 ? -v : v));
    const special = [NaN, Infinity, -Infinity, 1e30, -1e-30, -0, 3.4e38];
    special.forEach((v, k) => { xs[(k + 2) * ODD[0] + 5 + k] = v; });
    for (const model of [quantizeInt8Dynamic(w), quantizeInt8Full(w, randomImages(50, ODD[0], 28), 50)]) {
      const js = allLogits(model, xs, n, 'js');
      const batch = batchLogits(model, xs, n);
      for (let k = 0; k < n; k++) {
        expect(Array.from(allLogits(model, xs.slice(k * ODD[0], (k + 1) * ODD[0]), 1, 'auto')[0]), `${model.kind} image ${k}`).toEqual(Array.from(js[k]));
        expect(Array.from(batch.subarray(k * 3, k * 3 + 3)), `${model.kind} image ${k} in a tile`).toEqual(Array.from(js[k]));
      }
    }
  });

  it('predictEach gives every predictor\'s argmax of its logits, wasm and JS predictors mixed, any input width', () => {
    for (const dims of [ODD, LENET, EDGES]) {
      const w = pruneRandomly(randomMlp(dims, 29), 0.6, 30);
      const xs = randomImages(6, dims[0], 31);
      const models = Object.values(kinds(w, xs));
      const predictors = [...models.map((m) => createPredictor(m)), ...models.map((m) => createPredictor(m, { kernels: 'js' }))];
      const out = new Uint8Array(2 + predictors.length);
      for (let k = 0; k < 6; k++) {
        const x = xs.slice(k * dims[0], (k + 1) * dims[0]);
        const copy = x.slice();
        predictEach(predictors, x, out, 2);
        expect(Array.from(out.subarray(2)), `${dims.join('-')} image ${k}`).toEqual(predictors.map((p) => argmax(p.logits(x))));
        expect(x).toEqual(copy);
      }
      for (const p of predictors) p.release();
    }
  });

  it('a batch (tiles of images) predicts exactly what one image at a time does', () => {
    const w = randomMlp(LENET, 11);
    const n = 37; // two full tiles and a partial one
    const xs = randomImages(n, 784, 12);
    for (const model of Object.values(kinds(w, xs))) {
      const p = createPredictor(model);
      const batch = p.predictBatch(xs, n);
      const single = allLogits(model, xs, n, 'auto').map((l) => l.indexOf(Math.max(...l)));
      expect(Array.from(batch), model.kind).toEqual(single);
    }
  });

  it('agrees with the JS kernels on ≥ 99.9 % of argmax predictions of a trained-like net', () => {
    const task = plantedTask(3000, 13);
    for (const [name, model] of Object.entries(kinds(task.net, task.images))) {
      const js = createPredictor(model, { kernels: 'js' }).predictBatch(task.images, task.n);
      const wa = createPredictor(model).predictBatch(task.images, task.n);
      let agree = 0;
      for (let k = 0; k < task.n; k++) if (js[k] === wa[k]) agree++;
      expect(agree / task.n, name).toBeGreaterThanOrEqual(0.999);
    }
  });

  it('keeps weights compact: f16 and int8 at their own size, CSR never above dense', () => {
    const w = randomMlp(LENET, 14);
    const denseBytes = LENET.slice(1).reduce((a, o, l) => a + (LENET[l] * o + o) * 4, 0);
    const mem = (m: CompactModel) => { const p = createPredictor(m); const b = p.memoryBytes; p.release(); return b; };
    const slack = 4 * 3 * 32; // alignment and read-ahead slack per array
    expect(mem(toDenseModel(w))).toBeLessThan(denseBytes + slack);
    expect(mem(quantizeFloat16(w))).toBeLessThan(denseBytes / 2 + 1200 * 4 + slack);
    expect(mem(quantizeInt8Dynamic(w))).toBeLessThan(denseBytes / 4 + 2 * 1200 * 4 + slack * 2);
    for (const s of [0.1, 0.3, 0.5, 0.9]) expect(mem(toSparseModel(pruneRandomly(w, s, 15))), `sparsity ${s}`).toBeLessThan(denseBytes + slack * 2);
  });

  it('gives released memory back to later models', () => {
    const w = randomMlp(LENET, 16);
    const before = rt.bytesInUse;
    const a = createPredictor(toDenseModel(w));
    const held = rt.bytesInUse - before;
    expect(held).toBeGreaterThanOrEqual(a.memoryBytes);
    a.release();
    const top = rt.memoryBytes;
    for (let r = 0; r < 5; r++) createPredictor(toDenseModel(w)).release();
    expect(rt.memoryBytes).toBe(top);
    expect(() => a.logits(new Float32Array(784))).toThrow(/release/);
  });
});
