import { describe, expect, it } from 'vitest';
import { decodeFloat16Array, encodeFloat16Array, f16BitsToF32, f32ToF16Bits } from './float16.ts';

describe('float32 → float16 conversion', () => {
  it.each([
    [1, 0x3c00, 1],
    [-2, 0xc000, -2],
    [0.1, 0x2e66, 0.0999755859375],
    [65504, 0x7bff, 65504], // largest finite half
    [65519, 0x7bff, 65504], // below the midpoint to 65536: rounds down
    [65520, 0x7c00, Infinity], // the midpoint ties to even: 65536, which overflows to Inf
    [1e6, 0x7c00, Infinity],
    [-1e6, 0xfc00, -Infinity],
    [2 ** -14, 0x0400, 2 ** -14], // smallest normal
    [2 ** -24, 0x0001, 2 ** -24], // smallest subnormal
    [3 * 2 ** -24, 0x0003, 3 * 2 ** -24],
    [2 ** -25, 0x0000, 0], // tie between 0 and 2^-24: even is 0
    [3 * 2 ** -25, 0x0002, 2 ** -23], // 3·2^-25 ties between 1 and 2 (·2^-24): even is 2
    [2 ** -26, 0x0000, 0],
    [1 + 2 ** -11, 0x3c00, 1], // tie between 1 (even) and 1 + 2^-10
    [1 + 3 * 2 ** -11, 0x3c02, 1 + 2 ** -9], // tie between 1 + 2^-10 (odd) and 1 + 2^-9
    [1 + 2 ** -11 + 2 ** -20, 0x3c01, 1 + 2 ** -10], // just above the tie
    [2 ** -14 - 2 ** -25, 0x0400, 2 ** -14], // the largest subnormal rounds up into the normals
    [0, 0x0000, 0],
    [Infinity, 0x7c00, Infinity],
  ])('%s → bits %s', (value, bits, decoded) => {
    expect(f32ToF16Bits(value)).toBe(bits);
    expect(f16BitsToF32(bits)).toBe(decoded);
  });

  it('keeps the sign of zero and of negatives', () => {
    expect(f32ToF16Bits(-0)).toBe(0x8000);
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(f32ToF16Bits(-0.1)).toBe(0xae66);
    expect(f32ToF16Bits(-(2 ** -24))).toBe(0x8001);
  });

  it('turns NaN into a NaN half, never into Inf', () => {
    for (const nan of [NaN, -NaN]) {
      const h = f32ToF16Bits(nan);
      expect(h & 0x7c00).toBe(0x7c00);
      expect(h & 0x3ff).not.toBe(0);
      expect(f16BitsToF32(h)).toBeNaN();
    }
  });

  it('round-trips every one of the 65536 half bit patterns', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = f16BitsToF32(h);
      if (Number.isNaN(v)) {
        expect((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0).toBe(true);
        continue;
      }
      if (f32ToF16Bits(v) !== h) expect.fail(`0x${h.toString(16)} → ${v} → 0x${f32ToF16Bits(v).toString(16)}`);
    }
  });

  it('rounds every midpoint between neighbouring halves to the even one, and off-midpoints to the nearer', () => {
    const below = new Float32Array(1);
    for (let h = 0; h < 0x7bff; h++) {
      const a = f16BitsToF32(h);
      const b = f16BitsToF32(h + 1);
      const mid = (a + b) / 2;
      expect(Math.fround(mid)).toBe(mid); // midpoints of halves are exact float32s
      const even = h % 2 === 0 ? h : h + 1;
      for (const sign of [0, 0x8000]) {
        const s = sign ? -1 : 1;
        if (f32ToF16Bits(s * mid) !== (even | sign)) expect.fail(`midpoint ${s * mid} of 0x${h.toString(16)}`);
        // the float32 neighbours of the midpoint are not ties
        below[0] = mid;
        const down = new Uint32Array(below.buffer);
        down[0] -= 1;
        if (f32ToF16Bits(s * below[0]) !== (h | sign)) expect.fail(`just below midpoint of 0x${h.toString(16)}`);
        down[0] += 2;
        if (f32ToF16Bits(s * below[0]) !== ((h + 1) | sign)) expect.fail(`just above midpoint of 0x${h.toString(16)}`);
      }
    }
  });

  it('converts arrays both ways', () => {
    const values = Float32Array.from([1, 0.1, -65504, 2 ** -24]);
    const bits = encodeFloat16Array(values);
    expect([...bits]).toEqual([0x3c00, 0x2e66, 0xfbff, 0x0001]);
    expect([...decodeFloat16Array(bits)]).toEqual([1, 0.0999755859375, -65504, 2 ** -24]);
  });
});
