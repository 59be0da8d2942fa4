import { describe, expect, it } from 'vitest';
import { analyzeRun } from './run.ts';
import { modalFromCounts } from './modal.ts';
import { balancedLabels, mulberry32, noisyPredictions, randomInt, setVotes } from './testing.ts';
import { imageVoteStats, imageVotes, levelVoteCounts, taxicabFromCounts } from './votes.ts';
import { classArrayFromBytes, classArrayToBytes } from '../class-array.ts';

describe('runs of more than 256 classes', () => {
  const numClasses = 1000, N = 3000, K = 12, levels = 3;
  const labels = balancedLabels(N, numClasses);
  const rand = mulberry32(8);
  const predictions = noisyPredictions(rand, labels, levels, K, numClasses, (t) => [0.7, 0.6, 0.3][t]);
  // 40 planted PIEs at level 1 among classes above 255: dense 7/12 for the true class, level 1 7/12 for class y ± 500.
  const planted = new Set<number>();
  while (planted.size < 40) planted.add(randomInt(rand, N));
  const plantedSorted = [...planted].sort((a, b) => a - b);
  for (const i of plantedSorted) {
    const y = labels[i], other = (y + 500) % numClasses;
    setVotes(predictions, 0, i, K, N, [...Array(7).fill(y), ...Array(5).fill(other)]);
    setVotes(predictions, 1, i, K, N, [...Array(5).fill(y), ...Array(7).fill(other)]);
    setVotes(predictions, 2, i, K, N, Array(12).fill(y));
  }
  // Make every other image unambiguous at level 1 (so only the planted ones are PIEs there).
  for (let i = 0; i < N; i++) if (!planted.has(i)) {
    setVotes(predictions, 0, i, K, N, Array(12).fill(labels[i]));
    setVotes(predictions, 1, i, K, N, [...Array(9).fill(labels[i]), 3, 400, 999]);
  }

  it('stores class indices in two bytes and keeps them through a file round trip', () => {
    expect(predictions).toBeInstanceOf(Uint16Array);
    const bytes = classArrayToBytes(predictions);
    expect(bytes.byteLength).toBe(levels * K * N * 2);
    expect(Array.from(classArrayFromBytes(bytes, 2).subarray(0, 50))).toEqual(Array.from(predictions.subarray(0, 50)));
    // An unaligned copy decodes the same.
    const shifted = new Uint8Array(bytes.byteLength + 1);
    shifted.set(bytes, 1);
    expect(Array.from(classArrayFromBytes(shifted.subarray(1), 2).subarray(0, 50))).toEqual(Array.from(predictions.subarray(0, 50)));
  });

  it('finds exactly the planted PIEs, with class indices above 255', () => {
    const { summary, perImage } = analyzeRun({ predictions, labels, numClasses, levelNames: ['dense', 'p90', 'q'], K });
    expect(summary.levels[1].pies).toEqual(plantedSorted);
    expect(summary.levels[2].pieCount).toBeGreaterThan(0); // 30 % accurate members: noise, not planted
    expect(summary.levels[1].classes).toHaveLength(numClasses);
    expect(perImage.modal).toBeInstanceOf(Uint16Array);
    const i = plantedSorted[0];
    expect(perImage.modal[N + i]).toBe((labels[i] + 500) % numClasses);
  });

  it('gives the same modal labels and taxicab scores as dense vote counts, without them', () => {
    const stats = imageVoteStats(predictions, levels, K, N, numClasses, 'smallest');
    const dense = levelVoteCounts(predictions, 0, K, N, numClasses);
    for (let t = 0; t < levels; t++) {
      const counts = levelVoteCounts(predictions, t, K, N, numClasses);
      expect(Array.from(stats.modal.subarray(t * N, (t + 1) * N))).toEqual(Array.from(modalFromCounts(counts, N, numClasses, 'smallest')));
      expect(Array.from(stats.taxicab.subarray(t * N, (t + 1) * N))).toEqual(Array.from(taxicabFromCounts(counts, dense, K, N, numClasses)));
    }
    const i = plantedSorted[1];
    expect(imageVotes(predictions, 1, i, K, N)).toEqual({
      classes: [labels[i], (labels[i] + 500) % numClasses].sort((a, b) => a - b),
      counts: labels[i] < (labels[i] + 500) % numClasses ? [5, 7] : [7, 5],
    });
    expect(stats.modalVotes[N + i]).toBe(7);
  });

  it('rejects one-byte arrays for more than 256 classes, naming the fix', () => {
    expect(() => analyzeRun({ predictions: new Uint8Array(levels * K * N), labels: new Uint8Array(N), numClasses, levelNames: ['a', 'b', 'c'], K }))
      .toThrow(/1000 classes need 2-byte class indices/);
  });
});
