import { describe, expect, it } from 'vitest';
import { analyzeRun } from './run.ts';
import { balancedLabels, mulberry32, noisyPredictions, plantedPieRun } from './testing.ts';

describe('analyzeRun', () => {
  const run = plantedPieRun(20191112);
  const { summary, perImage } = analyzeRun(run);

  it('reports the planted PIEs per level, by name', () => {
    expect(summary.levels.map((l) => [l.name, l.pieCount])).toEqual([
      ['dense', 0],
      ['compressed', 20],
      ['null', 0],
    ]);
    expect(summary.levels[1].pies).toEqual(run.planted);
    expect(summary.levels[1].pieAccuracy.densePie).toBeCloseTo(5 / 9, 12);
  });

  it('records its settings with their defaults', () => {
    expect(summary).toMatchObject({
      numImages: run.N,
      numClasses: run.numClasses,
      membersPerLevel: run.K,
      tieRule: 'largest',
      alpha: 0.05,
    });
  });

  it('has one accuracy summary and one row per class at every level', () => {
    for (const level of summary.levels) {
      expect(level.accuracy.perMember).toHaveLength(run.K);
      expect(level.classes.map((c) => c.classIndex)).toEqual([...Array(run.numClasses).keys()]);
    }
  });

  it('returns per-image modal labels and taxicab scores as typed arrays [levels × N]', () => {
    expect(perImage.modal).toBeInstanceOf(Uint8Array);
    expect(perImage.taxicab).toBeInstanceOf(Float32Array);
    expect(perImage.modal).toHaveLength(3 * run.N);
    expect(perImage.taxicab).toHaveLength(3 * run.N);
    // Planted image: dense votes 5/4, compressed 3/6 → distance 2 · 2/9.
    expect(perImage.taxicab[run.N + run.planted[0]]).toBeCloseTo(4 / 9, 6);
  });

  it('gives a summary that survives a JSON round trip unchanged', () => {
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
  });

  it('honours tieRule and alpha', () => {
    // The settings are recorded…
    const again = analyzeRun({ ...run, tieRule: 'smallest', alpha: 0.01 });
    expect(again.summary).toMatchObject({ tieRule: 'smallest', alpha: 0.01 });

    // …and change the answer. Two levels of K = 4 on 40 images (0–19 class 0, 20–39 class 1):
    // member k gets the first `correct[k]` images of a class (after image 0) right and predicts
    // the other class on the rest. Image 0 (class 0) gets dense votes 3/1 and compressed votes
    // 2/2: a tie at level 1. Ties also fall at image 15 (dense) and 36 (compressed).
    const K = 4;
    const N = 40;
    const labels = Uint8Array.from({ length: N }, (_, i) => (i < 20 ? 0 : 1));
    const correct = [
      { image0: [1, 1, 1, 0], class0: [14, 15, 15, 14], class1: [20, 14, 15, 15] },
      { image0: [1, 1, 0, 0], class0: [19, 18, 19, 19], class1: [17, 16, 19, 15] },
    ];
    const predictions = new Uint8Array(2 * K * N);
    correct.forEach((c, t) => {
      for (let k = 0; k < K; k++) {
        for (let i = 0; i < N; i++) {
          const ok = i === 0 ? c.image0[k] === 1 : i < 20 ? i - 1 < c.class0[k] : i - 20 < c.class1[k];
          predictions[(t * K + k) * N + i] = ok ? labels[i] : 1 - labels[i];
        }
      }
    });
    const tiny = { predictions, labels, numClasses: 2, K, levelNames: ['dense', 'compressed'] };
    const largest = analyzeRun({ ...tiny, tieRule: 'largest', alpha: 0.05 });
    const smallest = analyzeRun({ ...tiny, tieRule: 'smallest', alpha: 0.01 });

    // Expected values computed independently (numpy modal labels; scipy.stats.ttest_ind(V, B,
    // equal_var=False) on the recalls): the tie at image 0 goes to class 1 or class 0.
    expect(largest.perImage.modal[N + 0]).toBe(1);
    expect(smallest.perImage.modal[N + 0]).toBe(0);
    expect(largest.perImage.modal[15]).toBe(1);
    expect(smallest.perImage.modal[15]).toBe(0);
    expect(largest.summary.levels[1].pies).toEqual([0, 15, 16, 17, 18, 19, 35, 36]);
    expect(smallest.summary.levels[1].pies).toEqual([16, 17, 18, 19, 35]);

    // Class 0 at level 1: t = 3.0089, p = 0.03383 — significant at 0.05, not at 0.01.
    const [c05, c01] = [largest, smallest].map((a) => a.summary.levels[1].classes[0]);
    expect(c05.t).toBeCloseTo(3.008915324260787, 9);
    expect(c05.p).toBeCloseTo(0.033833219889601154, 9);
    expect(c01.p).toBeCloseTo(0.033833219889601154, 9);
    expect([c05.significant, c05.direction]).toEqual([true, 'up']);
    expect([c01.significant, c01.direction]).toEqual([false, 'none']);
    expect(largest.summary.levels[1].impacted.up).toBe(1);
    expect(smallest.summary.levels[1].impacted.up).toBe(0);
    // Class 1 (p = 0.356) is significant at neither.
    expect(largest.summary.levels[1].classes[1].p).toBeCloseTo(0.35609473352071946, 9);
    expect(largest.summary.levels[1].classes[1].significant).toBe(false);
  });

  it('rejects inconsistent input with a message that says what it expected', () => {
    expect(() => analyzeRun({ ...run, levelNames: ['dense', 'compressed'] })).toThrow(/expected length .* got 13500/);
    expect(() => analyzeRun({ ...run, levelNames: ['dense', 'p90', 'p90'] })).toThrow(/"p90" twice/);
    expect(() => analyzeRun({ ...run, numClasses: 5 })).toThrow(/expected class indices < 5/);
    expect(() => analyzeRun({ ...run, K: 0 })).toThrow(/K \(members per level\): expected an integer/);
  });

  // Its speed at the paper's size is measured by `npm run bench:analysis`, not asserted here.
  it('analyses 7 levels × 30 members × 10 000 images: one summary per level, PIE counts consistent with the modal labels', () => {
    const rand = mulberry32(3);
    const labels = balancedLabels(10_000, 10);
    const predictions = noisyPredictions(rand, labels, 7, 30, 10, (t) => 0.9 - 0.03 * t);
    const result = analyzeRun({
      predictions,
      labels,
      numClasses: 10,
      K: 30,
      levelNames: ['dense', 'p50', 'p90', 'p99', 'f16', 'int8dyn', 'int8full'],
    });
    expect(result.summary.levels.map((l) => l.name)).toEqual(['dense', 'p50', 'p90', 'p99', 'f16', 'int8dyn', 'int8full']);
    const { modal } = result.perImage;
    result.summary.levels.forEach((l, t) => {
      let pies = 0;
      for (let i = 0; i < 10_000; i++) if (modal[t * 10_000 + i] !== modal[i]) pies++;
      expect(l.pieCount).toBe(pies);
    });
  });
});
