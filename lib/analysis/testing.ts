// Seeded synthetic data for the analysis tests. Not exported from index.ts.

import { type ClassArray, classBytesFor, newClassArray } from '../class-array.ts';
import { mulberry32 } from '../random.ts';

export { mulberry32 };

export function randomInt(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}

/** A class other than `avoid`, uniformly among the remaining numClasses − 1. */
export function otherClass(rand: () => number, avoid: number, numClasses: number): number {
  const c = randomInt(rand, numClasses - 1);
  return c >= avoid ? c + 1 : c;
}

/** Balanced labels: image i has class i mod numClasses. */
export function balancedLabels(N: number, numClasses: number): ClassArray {
  const labels = newClassArray(N, classBytesFor(numClasses));
  for (let i = 0; i < N; i++) labels[i] = i % numClasses;
  return labels;
}

/**
 * Predictions [levels × K × N] where member k of level t gets image i right with probability
 * correctProb(t, k, label) and otherwise predicts a uniformly random wrong class.
 */
export function noisyPredictions(
  rand: () => number,
  labels: ClassArray,
  levels: number,
  K: number,
  numClasses: number,
  correctProb: (level: number, member: number, label: number) => number,
): ClassArray {
  const N = labels.length;
  const out = newClassArray(levels * K * N, classBytesFor(numClasses));
  for (let t = 0; t < levels; t++) {
    for (let k = 0; k < K; k++) {
      const base = (t * K + k) * N;
      for (let i = 0; i < N; i++) {
        const y = labels[i];
        out[base + i] = rand() < correctProb(t, k, y) ? y : otherClass(rand, y, numClasses);
      }
    }
  }
  return out;
}

/** Sets the votes of one image at one level: member k predicts votes[k]. */
export function setVotes(predictions: ClassArray, level: number, image: number, K: number, N: number, votes: number[]): void {
  for (let k = 0; k < K; k++) predictions[(level * K + k) * N + image] = votes[k];
}

export interface PlantedPieRun {
  predictions: Uint8Array;
  labels: Uint8Array;
  levelNames: string[];
  K: number;
  N: number;
  numClasses: number;
  /** Images made ambiguous at level 1, ascending. */
  planted: number[];
}

/**
 * Three levels (dense, 'compressed', 'null') of K = 9 members on N = 500 images, 10 classes.
 * Every image gets at most 3 noisy votes out of 9 at every level, so its modal label is the
 * true label — except the 20 planted images: dense members split 5 (true label) / 4 (next
 * class), 'compressed' members 3 / 6. Exactly those 20 are PIEs of level 1, and level 2 has
 * none. The dense population gets 5/9 of the planted images right, level 1 gets 3/9.
 */
export function plantedPieRun(seed: number): PlantedPieRun {
  const rand = mulberry32(seed);
  const N = 500;
  const K = 9;
  const numClasses = 10;
  const levelNames = ['dense', 'compressed', 'null'];
  const labels = new Uint8Array(N);
  for (let i = 0; i < N; i++) labels[i] = randomInt(rand, numClasses);

  const predictions = new Uint8Array(levelNames.length * K * N);
  for (let t = 0; t < levelNames.length; t++) {
    for (let i = 0; i < N; i++) {
      const votes: number[] = Array(K).fill(labels[i]);
      const noisy = randomInt(rand, 4);
      for (let j = 0; j < noisy; j++) votes[randomInt(rand, K)] = otherClass(rand, labels[i], numClasses);
      setVotes(predictions, t, i, K, N, votes);
    }
  }

  const planted = new Set<number>();
  while (planted.size < 20) planted.add(randomInt(rand, N));
  for (const i of planted) {
    const y = labels[i];
    const next = (y + 1) % numClasses;
    setVotes(predictions, 0, i, K, N, [y, next, y, next, y, next, y, next, y]);
    setVotes(predictions, 1, i, K, N, [next, y, next, next, y, next, next, y, next]);
  }
  return { predictions, labels, levelNames, K, N, numClasses, planted: [...planted].sort((a, b) => a - b) };
}
