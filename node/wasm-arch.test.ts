/** The WebAssembly kernels of architecture models (lib/model/wasm/arch.ts, source-conv.ts) against the JS reference kernels. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Architecture, lenet5Arch, resnetArch } from '../lib/model/arch.ts';
import { toArchModel } from '../lib/model/arch-weights.ts';
import { decodeFloat16Array } from '../lib/model/float16.ts';
import { encodeModel } from '../lib/model/format.ts';
import { createPredictor } from '../lib/model/predictor.ts';
import { randomArchWeights, randomImages } from '../lib/model/testing.ts';
import type { ArchDenseF32Model, ArchF16Model, ModelKind } from '../lib/model/types.ts';
import { installNodeKernels } from './wasm-kernels.ts';

beforeAll(async () => {
  await installNodeKernels();
});

/*
 * The shapes exercise every path of the kernels: 1 and 3 input channels (column tap pairs for
 * int8), even channel counts (channel tap pairs), odd filter counts (a last block of one
 * filter), output widths that are not a multiple of 4 and rows of more than one block (23 → 23
 * and 9 wide), stride 2 with 1×1 projection shortcuts, BatchNorm folded, global pooling.
 */
const ARCHS: [string, Architecture][] = [
  ['lenet5 20×20×1', lenet5Arch([20, 20, 1], 10, { conv: [5, 7], dense: [13] })],
  ['lenet5 23×23×1', lenet5Arch([23, 23, 1], 10, { conv: [6, 16], dense: [12] })],
  ['lenet5 16×16×3', lenet5Arch([16, 16, 3], 6, { conv: [3, 4], dense: [9] })],
  ['resnet-8 11×11×3', resnetArch([11, 11, 3], 7, { depth: 8, width: 5 })],
  ['resnet-8 12×12×1', resnetArch([12, 12, 1], 5, { depth: 8, width: 4 })],
];

describe.each(ARCHS)('%s on wasm', (_, arch) => {
  const len = arch.input[0] * arch.input[1] * arch.input[2];
  const n = 40;
  const xs = randomImages(n, len, 3);
  const image = (k: number) => xs.slice(k * len, (k + 1) * len);

  it.each([[0], [0.5], [0.95]])('dense, sparse and f16 at sparsity %f: logits of the JS kernels within float32 rounding', (sparsity) => {
    const w = randomArchWeights(arch, 9, sparsity);
    for (const kind of ['dense-f32', 'sparse-f32', 'f16'] as const) {
      const model = toArchModel(w, kind);
      const js = createPredictor(model, { kernels: 'js' });
      const wasm = createPredictor(model);
      expect(wasm.kernels).toBe('wasm');
      let worst = 0;
      for (let k = 0; k < n; k++) {
        const a = js.logits(image(k)), b = wasm.logits(image(k));
        for (let o = 0; o < a.length; o++) worst = Math.max(worst, Math.abs(a[o] - b[o]) / Math.max(1, Math.abs(a[o])));
      }
      expect(worst, kind).toBeLessThan(1e-5);
      const lj = js.predictBatch(xs, n), lw = wasm.predictBatch(xs, n);
      expect([...lw].filter((c, k) => c === lj[k]).length, kind).toBeGreaterThanOrEqual(n - 1);
      wasm.release();
    }
    // On wasm, the sparse kernels give the dense kernels' logits bit for bit (same float32 order).
    const d = createPredictor(toArchModel(w, 'dense-f32')), s = createPredictor(toArchModel(w, 'sparse-f32'));
    for (let k = 0; k < n; k++) expect([...s.logits(image(k))]).toEqual([...d.logits(image(k))]);
    // …and f16 those of dense f32 on its decoded weights.
    const f16 = toArchModel(w, 'f16') as ArchF16Model;
    const decoded: ArchDenseF32Model = { ...f16, kind: 'dense-f32', layers: f16.layers.map((l) => ({ weights: decodeFloat16Array(l.weights), bias: l.bias })) };
    const h = createPredictor(f16), hd = createPredictor(decoded);
    for (let k = 0; k < 5; k++) expect([...h.logits(image(k))]).toEqual([...hd.logits(image(k))]);
    for (const p of [d, s, h, hd]) p.release();
  });

  it.each([['int8-dynamic'], ['int8-full']] as const)('%s: logits bit-identical to the JS reference kernels', (kind) => {
    const model = toArchModel(randomArchWeights(arch, 1, 0), kind, { calibration: xs, n: 20 });
    const js = createPredictor(model, { kernels: 'js' });
    const wasm = createPredictor(model);
    expect(wasm.kernels).toBe('wasm');
    const distinct = new Set<string>();
    for (let k = 0; k < n; k++) {
      const a = [...js.logits(image(k))];
      expect([...wasm.logits(image(k))], `image ${k}`).toEqual(a);
      distinct.add(a.join());
    }
    // Not a degenerate net: its logits depend on the image.
    expect(distinct.size).toBeGreaterThan(n / 2);
    expect([...wasm.predictBatch(xs, n)]).toEqual([...js.predictBatch(xs, n)]);
    wasm.release();
  });
});

describe('loaded wasm models', () => {
  const arch = lenet5Arch([28, 28, 1], 10);
  const kinds: ModelKind[] = ['dense-f32', 'sparse-f32', 'f16', 'int8-dynamic', 'int8-full'];
  const xs = randomImages(20, 784, 4);

  it.each([[0], [0.3], [0.5], [0.9], [0.99]])('at sparsity %f, hold no more than their file, and a sparse model no more than the dense one', (sparsity) => {
    const w = randomArchWeights(arch, 2, sparsity);
    const dense = createPredictor(toArchModel(w, 'dense-f32'));
    for (const kind of kinds) {
      const model = toArchModel(w, kind, { calibration: xs, n: 20 });
      const p = createPredictor(model);
      expect(p.memoryBytes, kind).toBeLessThanOrEqual(encodeModel(model).length);
      if (kind === 'sparse-f32') expect(p.memoryBytes).toBeLessThanOrEqual(dense.memoryBytes);
      if (kind === 'sparse-f32' && sparsity >= 0.9) expect(p.memoryBytes).toBeLessThan(0.25 * dense.memoryBytes);
      if (kind === 'f16') expect(p.memoryBytes).toBeLessThan(0.55 * dense.memoryBytes);
      if (kind.startsWith('int8')) expect(p.memoryBytes).toBeLessThan(0.3 * dense.memoryBytes);
      p.release();
    }
    dense.release();
  });

  it.each(kinds)('%s: a loaded model keeps no reference to its decoded JS arrays (they are collectable)', async (kind) => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const refs: WeakRef<object>[] = [];
    const p = (() => {
      const model = toArchModel(randomArchWeights(arch, 4, 0.5), kind, { calibration: xs, n: 20 });
      for (const layer of model.layers) for (const v of Object.values(layer)) refs.push(new WeakRef(v as object));
      return createPredictor(model);
    })();
    const logits = [...p.logits(xs.slice(0, 784))];
    for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 10)); }
    expect(refs.filter((r) => r.deref() !== undefined).length).toBe(0);
    expect([...p.logits(xs.slice(0, 784))]).toEqual(logits);
    p.release();
  });

  it('share one scratch without leaking state between models of different kinds', () => {
    const w = randomArchWeights(arch, 3, 0.5);
    const models = kinds.map((kind) => toArchModel(w, kind, { calibration: xs, n: 20 }));
    const alone = models.map((m) => { const p = createPredictor(m); const l = [...p.logits(xs.slice(0, 784))]; p.release(); return l; });
    const all = models.map((m) => createPredictor(m));
    for (let round = 0; round < 2; round++) {
      all.forEach((p, i) => expect([...p.logits(xs.slice(0, 784))], kinds[i]).toEqual(alone[i]));
    }
    for (const p of all) p.release();
  });
});
