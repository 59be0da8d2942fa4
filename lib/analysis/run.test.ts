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
    const again = analyzeRun({ ...run, tieRule: 'smallest', alpha: 0.01 });
    expect(again.summary).toMatchObject({ tieRule: 'smallest', alpha: 0.01 });
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
