/**
 * IEEE 754 binary16 conversion, by hand: `Math.f16round` and `Float16Array` are not available
 * in Node 20 (nor in every Workers runtime we target), so float32 → float16 rounding is done on
 * the float32 bit pattern. The input is already a float32, so this rounds once
 * (round-to-nearest, ties-to-even) exactly as a hardware conversion would.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 value → binary16 bits, round to nearest, ties to even; NaN stays NaN (quiet). */
export function f32ToF16Bits(value: number): number {
  f32[0] = value;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp32 = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;

  if (exp32 === 0xff) {
    // Inf, or NaN: keep the top payload bits and force the quiet bit so it cannot become Inf.
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  const exp = exp32 - 127 + 15; // binary16 biased exponent
  if (exp >= 0x1f) return sign | 0x7c00; // ≥ 2^16: beyond the largest finite half (65504)

  if (exp <= 0) {
    // Subnormal half (or zero): value = m · 2^-24. Below 2^-25 everything rounds to zero;
    // exactly 2^-25 is a tie that rounds to the even neighbour, zero.
    if (exp < -10) return sign;
    const full = mant | 0x800000; // restore the implicit leading 1
    const shift = 14 - exp; // 14 … 24
    const half = 1 << (shift - 1);
    const rest = full & ((1 << shift) - 1);
    let m = full >>> shift;
    if (rest > half || (rest === half && (m & 1) === 1)) m++; // may carry into the smallest normal: still correct
    return sign | m;
  }

  let h = (exp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // a carry rolls into the exponent, up to Inf
  return sign | h;
}

/** binary16 bits → the exact float value (every half is exactly representable as a float32). */
export function f16BitsToF32(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) {
    const magnitude = mant * 2 ** -24;
    return sign ? -magnitude : magnitude;
  }
  if (exp === 0x1f) {
    u32[0] = (sign | 0x7f800000 | (mant << 13)) >>> 0;
    return f32[0];
  }
  u32[0] = (sign | ((exp - 15 + 127) << 23) | (mant << 13)) >>> 0;
  return f32[0];
}

export function encodeFloat16Array(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let k = 0; k < values.length; k++) out[k] = f32ToF16Bits(values[k]);
  return out;
}

export function decodeFloat16Array(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let k = 0; k < bits.length; k++) out[k] = f16BitsToF32(bits[k]);
  return out;
}
