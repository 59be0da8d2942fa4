import { describe, expect, it } from 'vitest';
import { memberAccuracy, type MemberAccuracy } from './accuracy.ts';
import { classImpact } from './classes.ts';
import { balancedLabels, mulberry32, noisyPredictions } from './testing.ts';

describe('classImpact on a planted class effect', () => {
  // K = 30 members per level (as the paper), 10 classes × 100 images. Each member has its own
  // skill around 85 %. Level 1 ('hurt') loses recall on class 3 only (85 % → 50 %);
  // level 2 ('null') is drawn from the same distribution as the dense level.
  const K = 30;
  const C = 10;
  const N = 1000;
  const rand = mulberry32(1911);
  const labels = balancedLabels(N, C);
  const skill = Array.from({ length: 3 * K }, () => 0.85 + 0.04 * (rand() - 0.5));
  const predictions = noisyPredictions(rand, labels, 3, K, C, (t, k, y) =>
    t === 1 && y === 3 ? 0.5 : skill[t * K + k],
  );
  const acc = memberAccuracy(predictions, labels, 3, K, N, C);

  it('flags class 3 as significantly down at the hurt level, and no other class down', () => {
    const { classes, impacted } = classImpact(acc, 1);
    const c3 = classes[3];
    expect(c3).toMatchObject({ classIndex: 3, direction: 'down', significant: true, significantAdjusted: true });
    expect(c3.t!).toBeLessThan(-10);
    expect(c3.p!).toBeLessThan(1e-10);
    // Recall fell by ~0.35 while overall accuracy fell by ~0.035.
    expect(c3.normalizedChange!).toBeCloseTo(-0.315, 1);
    expect(c3.meanRecallDense! - c3.meanRecallLevel!).toBeCloseTo(0.35, 1);
    expect(classes.filter((c) => c.direction === 'down').map((c) => c.classIndex)).toEqual([3]);
    expect(impacted.down).toBe(1);
    expect(impacted.downAdjusted).toBe(1);
    // The other classes now beat the (lower) overall accuracy by more than before, so the
    // normalized test may call them 'up' — that is the method, not noise.
    for (const c of classes) if (c.classIndex !== 3) expect(c.normalizedChange!).toBeGreaterThan(0);
  });

  it('finds (almost) nothing at a level where nothing changed', () => {
    const { impacted } = classImpact(acc, 2);
    expect(impacted.down + impacted.up).toBeLessThanOrEqual(1);
    expect(impacted.downAdjusted + impacted.upAdjusted).toBe(0);
  });

  it('compares the dense level with itself as t = 0, p = 1', () => {
    const { classes, impacted } = classImpact(acc, 0);
    for (const c of classes) expect(c).toMatchObject({ t: 0, p: 1, pAdjusted: 1, normalizedChange: 0, direction: 'none' });
    expect(impacted).toEqual({ down: 0, up: 0, downAdjusted: 0, upAdjusted: 0 });
  });

  it('makes the counts agree with the rows, and a stricter alpha never flags more', () => {
    const loose = classImpact(acc, 1, { alpha: 0.05 });
    const strict = classImpact(acc, 1, { alpha: 0.001 });
    expect(loose.impacted.up).toBe(loose.classes.filter((c) => c.direction === 'up').length);
    expect(strict.impacted.down + strict.impacted.up).toBeLessThanOrEqual(loose.impacted.down + loose.impacted.up);
    for (const c of loose.classes) expect(c.pAdjusted!).toBeGreaterThanOrEqual(c.p!);
  });

  it('survives a JSON round trip unchanged', () => {
    const result = classImpact(acc, 1);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });
});

describe('classImpact against a reference computation', () => {
  // Hand-made populations (levels = 2, K = 4, 2 classes). Reference: SciPy 1.17.1,
  // B = r0 − mean(acc0), V = r1 − mean(acc1), scipy.stats.ttest_ind(V, B, equal_var=False).
  const acc: MemberAccuracy = {
    levels: 2,
    K: 4,
    numClasses: 2,
    accuracy: new Float64Array([0.8, 0.82, 0.78, 0.81, 0.7, 0.72, 0.69, 0.71]),
    // recall[(t * K + k) * 2 + c]
    recall: new Float64Array([
      0.9, 0.7, 0.92, 0.72, 0.88, 0.68, 0.91, 0.71, // dense: class 0, class 1 per member
      0.6, 0.8, 0.65, 0.79, 0.62, 0.76, 0.58, 0.84, // level 1
    ]),
    support: new Uint32Array([10, 10]),
  };

  it('builds B_c and V_c per METHOD.md and signs t so that negative = relatively worse', () => {
    const { classes } = classImpact(acc, 1);
    expect(classes[0].t!).toBeCloseTo(-11.191986569875848, 9);
    expect(classes[0].df!).toBeCloseTo(4.772920940508126, 9);
    expect(classes[0].p!).toBeCloseTo(0.00013196020578721713, 12);
    expect(classes[0].normalizedChange!).toBeCloseTo(-0.1925, 12);
    expect(classes[1].t!).toBeCloseTo(10.351357515303919, 9);
    expect(classes[1].df!).toBeCloseTo(4.4962471445665155, 9);
    expect(classes[1].p!).toBeCloseTo(0.00026398821593336493, 12);
    expect(classes.map((c) => c.direction)).toEqual(['down', 'up']);
    expect(classes[0].meanRecallDense!).toBeCloseTo(0.9025, 12);
    expect(classes[0].meanRecallLevel!).toBeCloseTo(0.6125, 12);
  });
});

describe('classImpact edge cases', () => {
  it('does not call a class significant when both samples are constant (no spread to test against)', () => {
    // Every member of both levels gets class 0 fully right, but level 1 is worse overall:
    // class 0 "moves up" only by the shift of overall accuracy, with no variance at all.
    const acc: MemberAccuracy = {
      levels: 2,
      K: 3,
      numClasses: 2,
      accuracy: new Float64Array([0.9, 0.9, 0.9, 0.7, 0.7, 0.7]),
      recall: new Float64Array([1, 0.8, 1, 0.8, 1, 0.8, 1, 0.4, 1, 0.4, 1, 0.4]),
      support: new Uint32Array([5, 5]),
    };
    const { classes, impacted, constantDiffering } = classImpact(acc, 1);
    expect(constantDiffering).toBe(2);
    expect(classes[0]).toMatchObject({ t: null, df: null, p: null, significant: false, direction: 'none' });
    expect(classes[0].normalizedChange!).toBeCloseTo(0.2, 12);
    expect(classes[1]).toMatchObject({ t: null, p: null, significant: false, direction: 'none' });
    expect(impacted).toEqual({ down: 0, up: 0, downAdjusted: 0, upAdjusted: 0 });
  });

  it('cannot test with a single member per level: nulls, nothing significant', () => {
    const acc: MemberAccuracy = {
      levels: 2,
      K: 1,
      numClasses: 2,
      accuracy: new Float64Array([0.9, 0.5]),
      recall: new Float64Array([0.9, 0.9, 0.1, 0.9]),
      support: new Uint32Array([5, 5]),
    };
    const { classes, impacted } = classImpact(acc, 1);
    expect(classes[0]).toMatchObject({ t: null, p: null, pAdjusted: null, significant: false, direction: 'none' });
    expect(classes[0].normalizedChange).toBeCloseTo(-0.4, 12);
    expect(impacted).toEqual({ down: 0, up: 0, downAdjusted: 0, upAdjusted: 0 });
  });

  it('rejects alpha outside (0, 1)', () => {
    const acc = memberAccuracy(new Uint8Array(4), new Uint8Array(2), 1, 2, 2, 2);
    expect(() => classImpact(acc, 0, { alpha: 5 })).toThrow(/alpha: expected a number in \(0, 1\), got 5/);
  });
});
