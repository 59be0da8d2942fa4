/**
 * The training kernel for stride-1 convolution gradients (lib/model/wasm/train.ts) against a
 * float64 loop written from the definition, over geometries that reach every block shape:
 * filter counts below, at and above one register block and one 16-filter slice, 1–6 channels,
 * kernels 1–5, padding 0–2.
 */
import { beforeAll, expect, it } from 'vitest';
import { mulberry32 } from '../lib/random.ts';
import type { WasmKernels } from '../lib/model/wasm/runtime.ts';
import { conv2dGradients } from '../lib/model/wasm/train.ts';
import { installNodeKernels } from './wasm-kernels.ts';

let rt: WasmKernels;
beforeAll(async () => {
  rt = await installNodeKernels();
});

function reference(x: Float32Array, dz: Float32Array, B: number, h: number, w: number, c: number, k: number, pad: number, F: number) {
  const oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
  const dW = new Float64Array(k * k * c * F), db = new Float64Array(F);
  for (let b = 0; b < B; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const zr = ((b * oh + oy) * ow + ox) * F;
        for (let f = 0; f < F; f++) db[f] += dz[zr + f];
        for (let ky = 0; ky < k; ky++) {
          for (let kx = 0; kx < k; kx++) {
            const iy = oy + ky - pad, ix = ox + kx - pad;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            for (let ci = 0; ci < c; ci++) {
              const xv = x[((b * h + iy) * w + ix) * c + ci];
              for (let f = 0; f < F; f++) dW[((ky * k + kx) * c + ci) * F + f] += xv * dz[zr + f];
            }
          }
        }
      }
    }
  }
  return { dW, db, oh, ow };
}

const geometries: [B: number, h: number, w: number, c: number, k: number, pad: number, F: number][] = [
  [3, 12, 12, 1, 5, 2, 6], // lenet5's first layer, small
  [2, 7, 9, 6, 5, 0, 16], // its second: exactly one slice of four vectors
  [2, 6, 6, 3, 3, 1, 1],
  [2, 5, 7, 2, 3, 1, 5],
  [1, 8, 8, 4, 1, 0, 20], // a slice of four vectors and one of one
  [2, 6, 5, 5, 3, 1, 37], // three slices, the last partial
  [1, 4, 4, 1, 3, 2, 12],
];

it.each(geometries)('B %i, %i×%i×%i input, %i×%i kernel (k, padding %i), %i filters: dW and db as the definition', (B, h, w, c, k, pad, F) => {
  const rand = mulberry32(B * 1000 + h * 100 + c * 10 + F);
  const oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
  // Zeros in both, as after ReLU and max pooling.
  const x = Float32Array.from({ length: B * h * w * c }, () => (rand() < 0.3 ? 0 : rand() * 2 - 1));
  const dz = Float32Array.from({ length: B * oh * ow * F }, () => (rand() < 0.6 ? 0 : rand() * 2 - 1));
  const ref = reference(x, dz, B, h, w, c, k, pad, F);
  const got = conv2dGradients(rt, x, dz, B, { h, w, c, k, pad, oh, ow }, F);
  expect(got.dW.length).toBe(ref.dW.length);
  expect(got.db.length).toBe(F);
  const terms = B * oh * ow;
  // Float32 running sums of `terms` products each of magnitude ≤ 1.
  const tol = terms * 2 ** -22;
  let worst = 0;
  for (let i = 0; i < ref.dW.length; i++) worst = Math.max(worst, Math.abs(got.dW[i] - ref.dW[i]));
  for (let f = 0; f < F; f++) worst = Math.max(worst, Math.abs(got.db[f] - ref.db[f]));
  expect(worst).toBeLessThan(tol);
  // Not all zero: the comparison carries signal.
  expect(ref.dW.some((v) => Math.abs(v) > 0.1)).toBe(true);
});

it('refuses a geometry that is not a stride-1 convolution', () => {
  expect(() => conv2dGradients(rt, new Float32Array(16), new Float32Array(9), 1, { h: 4, w: 4, c: 1, k: 3, pad: 0, oh: 3, ow: 3 }, 1)).toThrow(/stride-1/);
});
