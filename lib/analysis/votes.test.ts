import { describe, expect, it } from 'vitest';
import { mulberry32, noisyPredictions, balancedLabels, setVotes } from './testing.ts';
import { levelVoteCounts, taxicab, taxicabDistances, voteCounts, voteDistribution } from './votes.ts';

describe('voteDistribution', () => {
  it('gives the fraction of the level’s members predicting each class', () => {
    const K = 4;
    const N = 2;
    const predictions = new Uint8Array(2 * K * N);
    setVotes(predictions, 1, 1, K, N, [2, 0, 2, 1]);
    expect(Array.from(voteDistribution(predictions, 1, 1, K, N, 3))).toEqual([0.25, 0.25, 0.5]);
    expect(Array.from(voteDistribution(predictions, 0, 1, K, N, 3))).toEqual([1, 0, 0]);
  });
});

describe('voteCounts', () => {
  it('counts K votes per image at every level', () => {
    const rand = mulberry32(7);
    const labels = balancedLabels(50, 5);
    const predictions = noisyPredictions(rand, labels, 3, 6, 5, () => 0.6);
    const counts = voteCounts(predictions, 3, 6, 50, 5);
    expect(counts).toHaveLength(3 * 50 * 5);
    for (let j = 0; j < 3 * 50; j++) {
      const row = Array.from(counts.subarray(j * 5, (j + 1) * 5));
      expect(row.reduce((a, b) => a + b, 0)).toBe(6);
    }
    expect(Array.from(counts.subarray(2 * 50 * 5))).toEqual(Array.from(levelVoteCounts(predictions, 2, 6, 50, 5)));
  });
});

describe('taxicab', () => {
  it('is 0 for identical distributions and 2 for disjoint ones', () => {
    expect(taxicab([0.5, 0.5, 0], [0.5, 0.5, 0])).toBe(0);
    expect(taxicab([1, 0, 0], [0, 0.5, 0.5])).toBe(2);
    expect(taxicab([0.5, 0.5, 0], [0, 0.5, 0.5])).toBe(1);
  });

  it('per image and level, stays in [0, 2], is 0 for the dense level and matches the pairwise form', () => {
    const rand = mulberry32(11);
    const levels = 4;
    const K = 7;
    const N = 120;
    const C = 6;
    const labels = balancedLabels(N, C);
    const predictions = noisyPredictions(rand, labels, levels, K, C, (t) => 0.9 - 0.2 * t);
    // Image 0: every member of level 3 disagrees with every dense member → distance 2.
    setVotes(predictions, 0, 0, K, N, Array(K).fill(1));
    setVotes(predictions, 3, 0, K, N, Array(K).fill(2));
    const d = taxicabDistances(predictions, levels, K, N, C);
    expect(d).toHaveLength(levels * N);
    expect(Array.from(d.subarray(0, N)).every((x) => x === 0)).toBe(true);
    // Every level, every image: the distance of its two vote distributions, counted by hand here.
    for (let t = 0; t < levels; t++) {
      for (let i = 0; i < N; i++) {
        const votes = (lv: number) => { const v = new Array(C).fill(0); for (let k = 0; k < K; k++) v[predictions[(lv * K + k) * N + i]]++; return v; };
        const a = votes(t), b = votes(0);
        expect(d[t * N + i]).toBeCloseTo(a.reduce((s, x, c) => s + Math.abs(x - b[c]), 0) / K, 6);
      }
    }
    expect(d[3 * N + 0]).toBe(2);
    for (const [t, i] of [[1, 5], [2, 17], [3, 99]]) {
      const expected = taxicab(voteDistribution(predictions, t, i, K, N, C), voteDistribution(predictions, 0, i, K, N, C));
      expect(d[t * N + i]).toBeCloseTo(expected, 6);
    }
  });
});
