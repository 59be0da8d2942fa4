/**
 * The int8 arithmetic shared by the quantizers and the kernels, defined once so that a model
 * quantized by the trainer and run by the API agree bit for bit.
 *
 * Rounding: everywhere, round half away from zero (C `round()`, which TFLite uses when it
 * quantizes weights, and what its fixed-point requantization does at ties), not `Math.round`
 * (half up: `Math.round(-2.5) === -2`), so positive and negative values round symmetrically.
 */

export function roundHalfAway(x: number): number {
  // Math.round is exact for x ≥ 0 (ties go up = away from zero); mirror it for negatives.
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/**
 * Symmetric per-output-channel int8 weights for a [inDim, outDim] row-major matrix:
 *   scale[o] = fround(max_i |W[i, o]| / 127)   (1 for an all-zero column)
 *   q[i, o]  = clamp(roundHalfAway(W[i, o] / scale[o]), −127, 127)
 * Scales are float32 (as in TFLite) and q is computed from the stored float32 scale, so the
 * dequantized weight is exactly q · scale[o].
 */
export function quantizeWeightColumns(
  weights: Float32Array,
  inDim: number,
  outDim: number,
): { weights: Int8Array; weightScales: Float32Array } {
  const maxAbs = new Float64Array(outDim);
  for (let i = 0; i < inDim; i++) {
    const base = i * outDim;
    for (let o = 0; o < outDim; o++) {
      const a = Math.abs(weights[base + o]);
      if (a > maxAbs[o]) maxAbs[o] = a;
    }
  }
  const weightScales = new Float32Array(outDim);
  for (let o = 0; o < outDim; o++) {
    const s = Math.fround(maxAbs[o] / 127);
    weightScales[o] = s > 0 ? s : 1; // also covers a max so small that the scale underflows
  }
  const q = new Int8Array(inDim * outDim);
  for (let i = 0; i < inDim; i++) {
    const base = i * outDim;
    for (let o = 0; o < outDim; o++) {
      q[base + o] = clamp(roundHalfAway(weights[base + o] / weightScales[o]), -127, 127);
    }
  }
  return { weights: q, weightScales };
}

/**
 * Asymmetric per-tensor int8 parameters for a calibrated range [min, max], widened to contain 0
 * so that a real 0 (a ReLU output, zero padding) is represented exactly:
 *   scale     = fround((max − min) / 255)     (1 if the range is empty)
 *   zeroPoint = clamp(roundHalfAway(−128 − min / scale), −128, 127)
 */
export function activationQuantization(min: number, max: number): { scale: number; zeroPoint: number } {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const s = Math.fround((hi - lo) / 255);
  const scale = s > 0 && Number.isFinite(s) ? s : 1;
  const zeroPoint = clamp(roundHalfAway(-128 - lo / scale), -128, 127);
  return { scale, zeroPoint };
}

/** Quantize one real activation: clamp(roundHalfAway(x / scale) + zeroPoint, −128, 127). */
export function quantizeActivation(x: number, scale: number, zeroPoint: number): number {
  return clamp(roundHalfAway(x / scale) + zeroPoint, -128, 127);
}
