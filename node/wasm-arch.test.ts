/** The WebAssembly path of architecture models (im2col + the dense kernels) against the JS reference kernels. */
import { beforeAll, describe, expect, it } from 'vitest';
import { lenet5Arch, resnetArch } from '../lib/model/arch.ts';
import { toArchModel } from '../lib/model/arch-weights.ts';
import { createPredictor } from '../lib/model/predictor.ts';
import { randomArchWeights, randomImages } from '../lib/model/testing.ts';
import { installNodeKernels } from './wasm-kernels.ts';

beforeAll(async () => {
  await installNodeKernels();
});

describe.each([
  ['lenet5 20×20×1', lenet5Arch([20, 20, 1], 10, { conv: [5, 7], dense: [13] })],
  ['lenet5 16×16×3', lenet5Arch([16, 16, 3], 6, { conv: [3, 4], dense: [9] })],
  ['resnet-8 11×11×3', resnetArch([11, 11, 3], 7, { depth: 8, width: 5 })],
])('%s on wasm', (_, arch) => {
  const len = arch.input[0] * arch.input[1] * arch.input[2];
  const n = 40;
  const xs = randomImages(n, len, 3);
  it.each([[0], [0.5], [0.95]])('dense, sparse and f16 at sparsity %f: logits of the JS kernels within float32 rounding', (sparsity) => {
    const w = randomArchWeights(arch, 9, sparsity);
    for (const kind of ['dense-f32', 'sparse-f32', 'f16'] as const) {
      const model = toArchModel(w, kind);
      const js = createPredictor(model, { kernels: 'js' });
      const wasm = createPredictor(model);
      expect(wasm.kernels).toBe('wasm');
      let worst = 0;
      for (let k = 0; k < n; k++) {
        const x = xs.slice(k * len, (k + 1) * len);
        const a = js.logits(x), b = wasm.logits(x);
        for (let o = 0; o < a.length; o++) worst = Math.max(worst, Math.abs(a[o] - b[o]) / Math.max(1, Math.abs(a[o])));
      }
      expect(worst, kind).toBeLessThan(1e-5);
      const lj = js.predictBatch(xs, n), lw = wasm.predictBatch(xs, n);
      expect([...lw].filter((c, k) => c === lj[k]).length, kind).toBeGreaterThanOrEqual(n - 1);
      wasm.release();
    }
    // On wasm, CSR gives the dense kernel's logits bit for bit (same float32 order).
    const d = createPredictor(toArchModel(w, 'dense-f32')), s = createPredictor(toArchModel(w, 'sparse-f32'));
    for (let k = 0; k < 5; k++) { const x = xs.slice(k * len, (k + 1) * len); expect([...s.logits(x)]).toEqual([...d.logits(x)]); }
    d.release(); s.release();
  });
});
