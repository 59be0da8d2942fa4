import { describe, expect, it } from 'vitest';
import { accuracySummary, memberAccuracy } from './accuracy.ts';

describe('memberAccuracy', () => {
  // 2 levels × K = 3 members × N = 4 images, 3 classes; class 2 has no images.
  const labels = new Uint8Array([0, 0, 1, 1]);
  // prettier-ignore
  const predictions = new Uint8Array([
    0, 1, 1, 0, // level 0, member 0: 2 right (one of each class)
    0, 0, 1, 0, // level 0, member 1: 3 right
    0, 0, 1, 1, // level 0, member 2: 4 right
    1, 1, 1, 1, // level 1, member 0: class 1 only
    0, 0, 0, 0, // level 1, member 1: class 0 only
    2, 2, 1, 2, // level 1, member 2: 1 right
  ]);
  const acc = memberAccuracy(predictions, labels, 2, 3, 4, 3);

  it('computes top-1 accuracy of every member', () => {
    expect(Array.from(acc.accuracy)).toEqual([0.5, 0.75, 1, 0.5, 0.5, 0.25]);
  });

  it('computes per-class recall r(c, t, k), NaN for a class without images', () => {
    const r = (t: number, k: number) => Array.from(acc.recall.subarray((t * 3 + k) * 3, (t * 3 + k + 1) * 3));
    expect(r(0, 0)).toEqual([0.5, 0.5, NaN]);
    expect(r(0, 1)).toEqual([1, 0.5, NaN]);
    expect(r(1, 0)).toEqual([0, 1, NaN]);
    expect(r(1, 2)).toEqual([0, 0.5, NaN]);
    expect(Array.from(acc.support)).toEqual([2, 2, 0]);
  });

  it('summarizes a level with the sample sd (n − 1)', () => {
    const s = accuracySummary(acc, 0);
    expect(s.mean).toBeCloseTo(0.75, 12);
    expect(s.sd).toBeCloseTo(0.25, 12); // population sd (n) would be 0.2041
    expect(s).toMatchObject({ min: 0.5, max: 1, perMember: [0.5, 0.75, 1] });
  });

  it('rejects a label outside [0, numClasses)', () => {
    expect(() => memberAccuracy(predictions, new Uint8Array([0, 0, 1, 3]), 2, 3, 4, 3)).toThrow(
      /labels: expected class indices < 3, got 3 \(image 3\)/,
    );
  });
});
