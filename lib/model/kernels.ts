import { clamp, roundHalfAway } from './int8.ts';
import type { SparseF32Layer } from './types.ts';

/*
 * Single-layer kernels over plain typed arrays. Each reads its input at x[xOff .. xOff + inDim)
 * so a batch can be run without copying images out of it, and writes into caller-owned
 * scratch, so a predictor allocates nothing per image.
 *
 * Float kernels accumulate in float64 in input order (i ascending) and round to float32 once,
 * when the activation is stored. Inputs that are exactly 0 are skipped: post-ReLU activations
 * and background pixels are mostly 0. Skipping them, or a pruned weight, drops a term that adds
 * exactly +0, so the sparse and dense kernels give identical results on the same weights.
 */

/** acc[o] = bias[o] + Σ_i x[i] · W[i, o], W [inDim, outDim] row-major. */
export function denseLayer(
  x: Float32Array,
  xOff: number,
  inDim: number,
  outDim: number,
  weights: Float32Array,
  bias: Float32Array,
  acc: Float64Array,
): void {
  for (let o = 0; o < outDim; o++) acc[o] = bias[o];
  for (let i = 0; i < inDim; i++) {
    const xi = x[xOff + i];
    if (xi === 0) continue;
    const base = i * outDim;
    // Unrolled by 4 (≈1.5× in V8); each acc[o] still sums in input order.
    let o = 0;
    for (; o + 4 <= outDim; o += 4) {
      const k = base + o;
      acc[o] += xi * weights[k];
      acc[o + 1] += xi * weights[k + 1];
      acc[o + 2] += xi * weights[k + 2];
      acc[o + 3] += xi * weights[k + 3];
    }
    for (; o < outDim; o++) acc[o] += xi * weights[base + o];
  }
}

/** Same sum over the CSR rows of the nonzero inputs: time falls with sparsity. */
export function sparseLayer(
  x: Float32Array,
  xOff: number,
  inDim: number,
  outDim: number,
  layer: SparseF32Layer,
  acc: Float64Array,
): void {
  const { rowPtr, colIdx, values, bias } = layer;
  for (let o = 0; o < outDim; o++) acc[o] = bias[o];
  for (let i = 0; i < inDim; i++) {
    const xi = x[xOff + i];
    if (xi === 0) continue;
    const end = rowPtr[i + 1];
    let k = rowPtr[i];
    // Unrolled by 4 like the dense kernel; each acc[o] still sums in input order.
    for (; k + 4 <= end; k += 4) {
      acc[colIdx[k]] += xi * values[k];
      acc[colIdx[k + 1]] += xi * values[k + 1];
      acc[colIdx[k + 2]] += xi * values[k + 2];
      acc[colIdx[k + 3]] += xi * values[k + 3];
    }
    for (; k < end; k++) acc[colIdx[k]] += xi * values[k];
  }
}

/** y = relu ? max(acc, 0) : acc, rounded to float32. */
export function storeActivation(acc: Float64Array, y: Float32Array, n: number, relu: boolean): void {
  if (relu) for (let o = 0; o < n; o++) y[o] = acc[o] > 0 ? acc[o] : 0;
  else for (let o = 0; o < n; o++) y[o] = acc[o];
}

/*
 * Integer kernels. JS numbers are float64, so integer sums are exact while below 2^53; the
 * accumulators here are Int32Array and provably never overflow int32:
 *   |Σ_i qx[i] · qw[i, o]| ≤ inDim · 255 · 127 < 2^31  for inDim ≤ 66 000 (checked at load).
 * (255 bounds |q − zeroPoint| for asymmetric int8; symmetric inputs are bounded by 127.)
 * The int32 bias is added afterwards as a JS number, exact since the total stays < 2^33.
 */

/**
 * Dynamic range quantization, one layer, one image:
 *   m        = max_i |x[i]|; if m = 0 then y = bias (every qx is 0)
 *   scale_x  = m / 127                                   (float64, per image and layer)
 *   qx[i]    = roundHalfAway(x[i] · (127 / m))           ∈ [−127, 127]
 *   acc[o]   = Σ_i qx[i] · qw[i, o]                       (exact integer)
 *   y[o]     = acc[o] · (scale_x · scale_w[o]) + b[o]     (float64, stored as float32)
 * and ReLU in float for hidden layers; the next layer quantizes its own input again.
 */
export function int8DynamicLayer(
  x: Float32Array,
  xOff: number,
  inDim: number,
  outDim: number,
  weights: Int8Array,
  weightScales: Float32Array,
  bias: Float32Array,
  qx: Int8Array,
  acc: Int32Array,
  y: Float32Array,
  relu: boolean,
): void {
  let m = 0;
  for (let i = 0; i < inDim; i++) {
    const a = Math.abs(x[xOff + i]);
    if (a > m) m = a;
  }
  for (let o = 0; o < outDim; o++) acc[o] = 0;
  const scaleX = m / 127;
  if (m > 0) {
    const inv = 127 / m;
    for (let i = 0; i < inDim; i++) qx[i] = clamp(roundHalfAway(x[xOff + i] * inv), -127, 127);
    for (let i = 0; i < inDim; i++) {
      const q = qx[i];
      if (q === 0) continue;
      const base = i * outDim;
      let o = 0;
      for (; o + 4 <= outDim; o += 4) {
        const k = base + o;
        acc[o] += q * weights[k];
        acc[o + 1] += q * weights[k + 1];
        acc[o + 2] += q * weights[k + 2];
        acc[o + 3] += q * weights[k + 3];
      }
      for (; o < outDim; o++) acc[o] += q * weights[base + o];
    }
  }
  for (let o = 0; o < outDim; o++) {
    const v = acc[o] * (scaleX * weightScales[o]) + bias[o];
    y[o] = relu && !(v > 0) ? 0 : v;
  }
}

/**
 * Full integer quantization, one layer (input and output are int8 codes):
 *   acc[o]  = Σ_i (qx[i] − zp_in) · qw[i, o] + qb[o]              (exact integer)
 *   q[o]    = clamp(roundHalfAway(acc[o] · M[o]) + zp_out, lo, 127)
 *   M[o]    = s_in · s_w[o] / s_out                                 (float64, see below)
 *   lo      = zp_out for hidden layers (the fused ReLU: real value ≥ 0), −128 for the last.
 * TFLite stores M as a 31-bit fixed-point multiplier and a shift; we keep it as a float64
 * (53 bits), which is more exact than that: acc · M is within a few ulps (relative ~2^-52) of
 * the real product, so it rounds as exact arithmetic would unless the product lies within
 * ~1e-12 of a .5 tie. IEEE float64 is the same on every runtime, so the result is
 * deterministic: the trainer and the API compute the same codes.
 */
export function int8FullLayer(
  qx: Int8Array,
  zpIn: number,
  inDim: number,
  outDim: number,
  weights: Int8Array,
  bias: Int32Array,
  multipliers: Float64Array,
  zpOut: number,
  lo: number,
  acc: Int32Array,
  qy: Int8Array,
): void {
  for (let o = 0; o < outDim; o++) acc[o] = 0;
  for (let i = 0; i < inDim; i++) {
    const d = qx[i] - zpIn;
    if (d === 0) continue; // a real 0: contributes nothing
    const base = i * outDim;
    let o = 0;
    for (; o + 4 <= outDim; o += 4) {
      const k = base + o;
      acc[o] += d * weights[k];
      acc[o + 1] += d * weights[k + 1];
      acc[o + 2] += d * weights[k + 2];
      acc[o + 3] += d * weights[k + 3];
    }
    for (; o < outDim; o++) acc[o] += d * weights[base + o];
  }
  for (let o = 0; o < outDim; o++) {
    qy[o] = clamp(roundHalfAway((acc[o] + bias[o]) * multipliers[o]) + zpOut, lo, 127);
  }
}

/** Index of the largest value in values[offset .. offset + length); ties → smallest index; NaN is never the max. */
export function argmax(values: ArrayLike<number>, offset = 0, length = values.length - offset): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let k = 0; k < length; k++) {
    const v = values[offset + k];
    if (v > bestValue) {
      bestValue = v;
      best = k;
    }
  }
  return best;
}
