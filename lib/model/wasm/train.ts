/**
 * Training kernels on the WebAssembly module (source.ts: conv_dw_R_V, col_sums): the weight and
 * bias gradients of a stride-1 convolution straight from HWC activations. Written by hand
 * because the tfjs wasm engine has no Conv2DBackpropFilter, and expressing the gradient as a
 * forward conv (batch as channels) or as im2col + matMul feeds XNNPACK shapes it is slow on:
 * a 25-row output with a 100k-long reduction for a first layer (see trainer/cnn-train.ts).
 */
import { DW_MAX_VECTORS, dwRows } from './source.ts';
import type { WasmKernels } from './runtime.ts';

export interface Stride1Geometry { h: number; w: number; c: number; k: number; pad: number; oh: number; ow: number }

type DwKernel = (xp: number, dz: number, dw: number, offs: number, B: number, oh: number,
  owBytes: number, rowBytes: number, imgBytes: number, pixBytes: number, dzStride: number) => void;
type ColSums = (p: number, M: number, stride: number, V: number, out: number) => void;

const align = (n: number) => Math.ceil(n / 16) * 16;

/**
 * dW [k, k, c, F] = Σ over the batch and output pixels of x[b, oy+ky−p, ox+kx−p, ci]·dz[b, oy, ox, f]
 * and db [F] = Σ dz, for x [B, h, w, c] and dz [B, oh, ow, F] (stride 1, zero padding p).
 * Float32 sums in pixel order; the input is copied once into a zero-padded buffer.
 */
export function conv2dGradients(kern: WasmKernels, x: Float32Array, dz: Float32Array, B: number, g: Stride1Geometry, F: number): { dW: Float32Array; db: Float32Array } {
  const { h, w, c, k, pad, oh, ow } = g;
  const hp = h + 2 * pad, wp = w + 2 * pad;
  if (hp - k + 1 !== oh || wp - k + 1 !== ow) throw new Error(`conv2dGradients: output ${oh}×${ow} is not that of a stride-1 ${k}×${k} conv of ${h}×${w} padded ${pad}`);
  if (x.length !== B * h * w * c || dz.length !== B * oh * ow * F) throw new Error('conv2dGradients: x or dz has the wrong length');
  const K = k * k * c;
  const V = Math.ceil(F / 4);
  const xpBytes = align(B * hp * wp * c * 4), dzBytes = align(dz.length * 4) + 16, offsBytes = align(K * 4), blkBytes = 16 * 16;
  const base = kern.scratch(xpBytes + dzBytes + offsBytes + blkBytes + 16);
  const xp = base, dzp = xp + xpBytes, offs = dzp + dzBytes, blk = offs + offsBytes;
  const f32 = kern.f32();
  const i32 = new Int32Array(f32.buffer);
  const xp4 = xp >> 2;
  if (pad === 0) f32.set(x, xp4);
  else {
    f32.fill(0, xp4, xp4 + B * hp * wp * c);
    const rowLen = w * c;
    for (let b = 0; b < B; b++) {
      for (let y = 0; y < h; y++) {
        const src = (b * h + y) * rowLen;
        f32.set(x.subarray(src, src + rowLen), xp4 + ((b * hp + y + pad) * wp + pad) * c);
      }
    }
  }
  f32.set(dz, dzp >> 2);
  for (let ky = 0, t = offs >> 2; ky < k; ky++) for (let kx = 0; kx < k; kx++) for (let ci = 0; ci < c; ci++, t++) i32[t] = ((ky * wp + kx) * c + ci) * 4;

  const exports = kern.k as unknown as Record<string, DwKernel> & { col_sums: ColSums };
  const dW = new Float32Array(K * F);
  // Column slices of at most DW_MAX_VECTORS vectors (16 filters), each in blocks of R entries.
  for (let col = 0; col < F; col += 4 * DW_MAX_VECTORS) {
    const Vs = Math.min(DW_MAX_VECTORS, V - col / 4), R = dwRows(Vs), width = Math.min(4 * Vs, F - col);
    for (let t0 = 0; t0 < K; t0 += R) {
      const r = Math.min(R, K - t0);
      exports[`conv_dw_${r}_${Vs}`](xp, dzp + col * 4, blk, offs + t0 * 4, B, oh, ow * c * 4, wp * c * 4, hp * wp * c * 4, c * 4, F * 4);
      const out = kern.f32(), b4 = blk >> 2;
      for (let rr = 0; rr < r; rr++) for (let f = 0; f < width; f++) dW[(t0 + rr) * F + col + f] = out[b4 + rr * 4 * Vs + f];
    }
  }
  const db = new Float32Array(F);
  for (let col = 0; col < F; col += 4 * DW_MAX_VECTORS) {
    const Vs = Math.min(DW_MAX_VECTORS, V - col / 4), width = Math.min(4 * Vs, F - col);
    exports.col_sums(dzp + col * 4, B * oh * ow, F * 4, Vs, blk);
    db.set(kern.f32().subarray(blk >> 2, (blk >> 2) + width), col);
  }
  return { dW, db };
}
