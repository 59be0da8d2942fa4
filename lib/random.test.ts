import { describe, expect, it } from 'vitest';
import { gaussian, mulberry32 } from './random.ts';

describe('gaussian (Box–Muller over mulberry32)', () => {
  it('has mean 0, variance 1 and normal tails', () => {
    const draw = gaussian(mulberry32(1));
    const n = 200_000;
    let s = 0, s2 = 0, beyond2 = 0;
    for (let i = 0; i < n; i++) {
      const z = draw();
      s += z; s2 += z * z;
      if (Math.abs(z) > 2) beyond2++;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(s2 / n).toBeCloseTo(1, 1.5);
    expect(beyond2 / n).toBeCloseTo(0.0455, 2); // P(|Z| > 2)
  });

  it('repeats for a seed and differs between seeds', () => {
    const a = gaussian(mulberry32(7)), b = gaussian(mulberry32(7)), c = gaussian(mulberry32(8));
    const xa = Array.from({ length: 5 }, a), xb = Array.from({ length: 5 }, b), xc = Array.from({ length: 5 }, c);
    expect(xa).toEqual(xb);
    expect(xa).not.toEqual(xc);
  });
});
