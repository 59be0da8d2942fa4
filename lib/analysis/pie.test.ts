import { describe, expect, it } from 'vitest';
import { modalLabels } from './modal.ts';
import { pieAccuracy, pieIndices, pieSets } from './pie.ts';
import { plantedPieRun } from './testing.ts';

describe('PIE sets', () => {
  const run = plantedPieRun(20191112);
  const levels = run.levelNames.length;
  const modal = modalLabels(run.predictions, levels, run.K, run.N, run.numClasses);

  it('finds exactly the 20 images we made ambiguous at the compressed level', () => {
    expect(Array.from(pieIndices(modal, 1, run.N))).toEqual(run.planted);
  });

  it('finds none where the level agrees with the dense population', () => {
    expect(pieIndices(modal, 2, run.N)).toHaveLength(0);
  });

  it('leaves the dense level without PIEs and returns one sorted set per level', () => {
    const sets = pieSets(modal, levels, run.N);
    expect(sets.map((s) => s.length)).toEqual([0, 20, 0]);
    expect(Array.from(sets[1])).toEqual([...sets[1]].sort((a, b) => a - b));
  });

  it('ignores the true label: a shared mistake is not a PIE', () => {
    const K = 3;
    const N = 2;
    // Both levels unanimously predict class 1 for image 0, whose label is 0.
    const predictions = new Uint8Array([1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]);
    const m = modalLabels(predictions, 2, K, N, 2);
    expect(pieIndices(m, 1, N)).toHaveLength(0);
  });
});

describe('pieAccuracy', () => {
  const run = plantedPieRun(20191112);
  const levels = run.levelNames.length;
  const modal = modalLabels(run.predictions, levels, run.K, run.N, run.numClasses);

  it('splits the accuracy of both populations between PIEs and the rest', () => {
    const acc = pieAccuracy(run.predictions, run.labels, modal, 1, run.K, run.N);
    expect(acc.densePie).toBeCloseTo(5 / 9, 12);
    expect(acc.levelPie).toBeCloseTo(3 / 9, 12);

    // Non-PIE accuracy, counted directly.
    const planted = new Set(run.planted);
    const nonPie = (t: number) => {
      let hits = 0;
      for (let k = 0; k < run.K; k++) {
        for (let i = 0; i < run.N; i++) {
          if (!planted.has(i) && run.predictions[(t * run.K + k) * run.N + i] === run.labels[i]) hits++;
        }
      }
      return hits / (run.K * (run.N - planted.size));
    };
    expect(acc.denseNonPie).toBeCloseTo(nonPie(0), 12);
    expect(acc.levelNonPie).toBeCloseTo(nonPie(1), 12);
    // As in the paper: the dense models do far worse on PIEs than on the rest.
    expect(acc.densePie!).toBeLessThan(acc.denseNonPie! - 0.2);
  });

  it('reports null, not NaN, for an empty PIE set', () => {
    const acc = pieAccuracy(run.predictions, run.labels, modal, 2, run.K, run.N);
    expect(acc.densePie).toBeNull();
    expect(acc.levelPie).toBeNull();
    expect(acc.denseNonPie).toBeGreaterThan(0.8);
  });
});
