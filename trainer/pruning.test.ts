import { describe, expect, it } from 'vitest';
import { isMaskUpdateStep, kthSmallest, magnitudeMask, measuredSparsity, sparsityAt } from './pruning.ts';
import { mulberry32 } from '../lib/random.ts';

describe('cubic sparsity schedule (Zhu & Gupta)', () => {
  const s = { target: 0.9, begin: 100, end: 1100, frequency: 50 };
  it('is 0 before begin, the target after end, and cubic in between', () => {
    expect(sparsityAt(0, s)).toBe(0);
    expect(sparsityAt(100, s)).toBe(0);
    expect(sparsityAt(5000, s)).toBeCloseTo(0.9, 12);
    // p = 0.5 → s = 0.9 − 0.9·0.125
    expect(sparsityAt(600, s)).toBeCloseTo(0.9 * (1 - 0.125), 12);
  });
  it('recomputes masks every `frequency` steps inside the window and at its end', () => {
    const steps = Array.from({ length: 1300 }, (_, i) => i).filter((i) => isMaskUpdateStep(i, s));
    expect(steps[0]).toBe(100);
    expect(steps[1]).toBe(150);
    expect(steps.at(-1)).toBe(1100);
    expect(steps.length).toBe(21);
  });
});

describe('magnitudeMask', () => {
  it('keeps exactly round(n(1 − s)) largest-magnitude weights', () => {
    const rand = mulberry32(3);
    const w = Float32Array.from({ length: 1001 }, () => rand() * 2 - 1);
    for (const s of [0.3, 0.5, 0.9, 0.99]) {
      const mask = magnitudeMask(w, s);
      const kept = mask.reduce((a, b) => a + b, 0);
      expect(kept).toBe(Math.round(1001 * (1 - s)));
      let minKept = Infinity, maxDropped = 0;
      w.forEach((v, i) => (mask[i] ? (minKept = Math.min(minKept, Math.abs(v))) : (maxDropped = Math.max(maxDropped, Math.abs(v)))));
      expect(minKept).toBeGreaterThanOrEqual(maxDropped);
    }
  });
  it('breaks ties at the threshold so the count stays exact', () => {
    const w = new Float32Array([1, 1, 1, 1, 0.5, 0.5, 2, 2]);
    const mask = magnitudeMask(w, 0.5);
    expect(mask.reduce((a, b) => a + b, 0)).toBe(4);
    expect(mask[6]).toBe(1);
    expect(mask[7]).toBe(1);
    expect(mask[4] + mask[5]).toBe(0);
  });
  it('finds the threshold a sort would: the value at index n − k of |w| sorted ascending', () => {
    const rand = mulberry32(9);
    // Ties (values from a few levels), zeros of both signs, magnitudes across many exponents.
    const w = Float32Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? (i % 2 ? -0 : 0) : i % 5 === 0 ? Math.round(rand() * 4) / 4 : (rand() - 0.5) * 10 ** Math.round(rand() * 8 - 6)));
    const abs = w.map(Math.abs);
    const sorted = abs.slice().sort();
    for (const rank of [0, 1, 713, 2500, 4321, 4998, 4999]) expect(kthSmallest(abs, rank)).toBe(sorted[rank]);
  });
  it('measuredSparsity counts exact zeros', () => {
    expect(measuredSparsity(new Float32Array([0, 1, 0, -0, 3]))).toBeCloseTo(0.6);
  });
});
