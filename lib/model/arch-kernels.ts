import { clamp, roundHalfAway } from './int8.ts';
import { denseLayer, sparseLayer } from './kernels.ts';
import type { SparseF32Layer } from './types.ts';

/*
 * JS reference kernels of the convolutional ops, over one HWC image at a time: conv (as im2col
 * patches through the dense-layer kernels of kernels.ts), max pooling, residual add and global
 * average pooling, in float and in int8 codes. Runtime-neutral, caller-owned scratch.
 *
 * A conv is a dense layer applied at every output position to the patch of its window:
 *   patch[(ky·k + kx)·C + c] = x[((oy·s − p + ky)·W + (ox·s − p + kx))·C + c]   (0 outside the image)
 *   y[(oy·Wo + ox)·F + f]    = bias[f] + Σ_j patch[j] · K[j, f]
 * with K the HWIO kernel read as a [k·k·C, F] matrix. Float sums run in float64 in patch order
 * and skip zero inputs (an exact +0), so the sparse kernel gives the dense kernel's results.
 */

export interface ConvGeometry {
  /** input [h, w, c] */
  h: number;
  w: number;
  c: number;
  kernel: number;
  stride: number;
  padding: number;
  /** output [oh, ow, filters] */
  oh: number;
  ow: number;
  filters: number;
}

/** Fills patch [k·k·c] for output position (oy, ox); positions outside the image get padValue. */
export function fillPatch(
  x: ArrayLike<number>,
  xOff: number,
  g: ConvGeometry,
  oy: number,
  ox: number,
  patch: Float32Array | Int8Array,
  padValue: number,
): void {
  const { h, w, c, kernel: k, stride, padding } = g;
  let j = 0;
  for (let ky = 0; ky < k; ky++) {
    const iy = oy * stride - padding + ky;
    for (let kx = 0; kx < k; kx++) {
      const ix = ox * stride - padding + kx;
      if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
        for (let ch = 0; ch < c; ch++) patch[j++] = padValue;
      } else {
        const base = xOff + (iy * w + ix) * c;
        for (let ch = 0; ch < c; ch++) patch[j++] = x[base + ch];
      }
    }
  }
}

/** Float conv (dense or CSR weights [k·k·c, F]); y [oh·ow·F] float32, ReLU'd if asked. */
export function convFloat(
  x: Float32Array,
  xOff: number,
  g: ConvGeometry,
  layer: { weights: Float32Array; bias: Float32Array } | SparseF32Layer,
  relu: boolean,
  y: Float32Array,
  patch: Float32Array,
  acc: Float64Array,
): void {
  const inDim = g.kernel * g.kernel * g.c;
  const F = g.filters;
  const sparse = 'rowPtr' in layer;
  for (let oy = 0; oy < g.oh; oy++) {
    for (let ox = 0; ox < g.ow; ox++) {
      fillPatch(x, xOff, g, oy, ox, patch, 0);
      if (sparse) sparseLayer(patch, 0, inDim, F, layer, acc);
      else denseLayer(patch, 0, inDim, F, layer.weights, layer.bias, acc);
      const base = (oy * g.ow + ox) * F;
      if (relu) for (let f = 0; f < F; f++) y[base + f] = acc[f] > 0 ? acc[f] : 0;
      else for (let f = 0; f < F; f++) y[base + f] = acc[f];
    }
  }
}

/**
 * Dynamic range int8 conv: the whole input tensor is quantized once per image, as a dense layer
 * quantizes its input vector (int8DynamicLayer):
 *   m = max |x|, qx = roundHalfAway(x · 127 / m) ∈ [−127, 127] (padding is the real 0 = code 0)
 *   acc[f] = Σ_j qpatch[j] · qw[j, f]   (exact integer)
 *   y[f]   = acc[f] · (m / 127 · s_w[f]) + b[f], ReLU in float.
 */
export function convInt8Dynamic(
  x: Float32Array,
  xOff: number,
  g: ConvGeometry,
  weights: Int8Array,
  weightScales: Float32Array,
  bias: Float32Array,
  relu: boolean,
  y: Float32Array,
  qx: Int8Array,
  patch: Int8Array,
  acc: Int32Array,
): void {
  const len = g.h * g.w * g.c;
  const inDim = g.kernel * g.kernel * g.c;
  const F = g.filters;
  let m = 0;
  for (let i = 0; i < len; i++) {
    const a = Math.abs(x[xOff + i]);
    if (a > m) m = a;
  }
  const scaleX = m / 127;
  if (m > 0) {
    const inv = 127 / m;
    for (let i = 0; i < len; i++) qx[i] = clamp(roundHalfAway(x[xOff + i] * inv), -127, 127);
  } else {
    qx.fill(0, 0, len);
  }
  for (let oy = 0; oy < g.oh; oy++) {
    for (let ox = 0; ox < g.ow; ox++) {
      for (let f = 0; f < F; f++) acc[f] = 0;
      if (m > 0) {
        fillPatch(qx, 0, g, oy, ox, patch, 0);
        integerDot(patch, 0, inDim, F, weights, acc);
      }
      const base = (oy * g.ow + ox) * F;
      for (let f = 0; f < F; f++) {
        const v = acc[f] * (scaleX * weightScales[f]) + bias[f];
        y[base + f] = relu && !(v > 0) ? 0 : v;
      }
    }
  }
}

/** acc[o] += Σ_i (q[i] − zp) · W[i, o] over nonzero differences; exact (see kernels.ts on int32 bounds). */
function integerDot(q: Int8Array, zp: number, inDim: number, outDim: number, weights: Int8Array, acc: Int32Array): void {
  for (let i = 0; i < inDim; i++) {
    const d = q[i] - zp;
    if (d === 0) continue;
    const base = i * outDim;
    for (let o = 0; o < outDim; o++) acc[o] += d * weights[base + o];
  }
}

/**
 * Full integer conv on int8 codes, the dense int8-full layer's arithmetic at every position
 * (int8FullLayer): padding is the code of a real 0, zp_in, so it adds nothing;
 *   acc[f] = Σ_j (qpatch[j] − zp_in) · qw[j, f] + qb[f]                    (exact integer)
 *   q[f]   = clamp(roundHalfAway(acc[f] · M[f]) + zp_out, lo, 127),  M[f] = s_in · s_w[f] / s_out
 * lo = zp_out with a fused ReLU, else −128.
 */
export function convInt8Full(
  qx: Int8Array,
  zpIn: number,
  g: ConvGeometry,
  weights: Int8Array,
  bias: Int32Array,
  multipliers: Float64Array,
  zpOut: number,
  lo: number,
  qy: Int8Array,
  patch: Int8Array,
  acc: Int32Array,
): void {
  const inDim = g.kernel * g.kernel * g.c;
  const F = g.filters;
  for (let oy = 0; oy < g.oh; oy++) {
    for (let ox = 0; ox < g.ow; ox++) {
      fillPatch(qx, 0, g, oy, ox, patch, zpIn);
      for (let f = 0; f < F; f++) acc[f] = 0;
      integerDot(patch, zpIn, inDim, F, weights, acc);
      const base = (oy * g.ow + ox) * F;
      for (let f = 0; f < F; f++) qy[base + f] = clamp(roundHalfAway((acc[f] + bias[f]) * multipliers[f]) + zpOut, lo, 127);
    }
  }
}

/** Max pooling without padding, on floats or on int8 codes (max commutes with the monotone dequantization). */
export function maxPool<T extends Float32Array | Int8Array>(
  x: T,
  h: number,
  w: number,
  c: number,
  size: number,
  stride: number,
  oh: number,
  ow: number,
  y: T,
): void {
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      const out = (oy * ow + ox) * c;
      for (let ch = 0; ch < c; ch++) {
        let m = -Infinity;
        for (let ky = 0; ky < size; ky++) {
          const row = (oy * stride + ky) * w;
          for (let kx = 0; kx < size; kx++) {
            const v = x[(row + ox * stride + kx) * c + ch];
            if (v > m) m = v;
          }
        }
        y[out + ch] = m;
      }
    }
  }
  void h;
}

/** y = a + b (float32 sum), ReLU'd if asked. */
export function addFloat(a: Float32Array, b: Float32Array, n: number, relu: boolean, y: Float32Array): void {
  for (let i = 0; i < n; i++) {
    const v = Math.fround(a[i] + b[i]);
    y[i] = relu && !(v > 0) ? 0 : v;
  }
}

/**
 * Residual add on codes, each input rescaled to the output's quantization:
 *   q = clamp(roundHalfAway((qa − zp_a) · (s_a / s_out) + (qb − zp_b) · (s_b / s_out)) + zp_out, lo, 127)
 * with the two ratios in float64 (TFLite uses fixed-point multipliers; float64 is more exact and
 * the same on every runtime, as for the layers).
 */
export function addInt8(
  qa: Int8Array,
  zpA: number,
  ma: number,
  qb: Int8Array,
  zpB: number,
  mb: number,
  n: number,
  zpOut: number,
  lo: number,
  qy: Int8Array,
): void {
  for (let i = 0; i < n; i++) qy[i] = clamp(roundHalfAway((qa[i] - zpA) * ma + (qb[i] - zpB) * mb) + zpOut, lo, 127);
}

/** Global average pooling [h·w, c] → [c]: float64 sum over positions / (h·w), stored as float32. */
export function gapFloat(x: Float32Array, hw: number, c: number, y: Float32Array): void {
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let p = 0; p < hw; p++) s += x[p * c + ch];
    y[ch] = s / hw;
  }
}

/** Global average pooling on codes: q = clamp(roundHalfAway(Σ_p (q_p − zp_in) · s_in / (h·w · s_out)) + zp_out, −128, 127). */
export function gapInt8(qx: Int8Array, zpIn: number, hw: number, c: number, multiplier: number, zpOut: number, qy: Int8Array): void {
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let p = 0; p < hw; p++) s += qx[p * c + ch] - zpIn;
    qy[ch] = clamp(roundHalfAway(s * multiplier) + zpOut, -128, 127);
  }
}
