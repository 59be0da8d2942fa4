import type { ClassArray } from '../class-array.ts';
import { type Summary, summarize } from './stats.ts';
import { assertLabels, assertLevel, assertPredictions } from './validate.ts';

/** Top-1 accuracy and per-class recall of every member of every level. */
export interface MemberAccuracy {
  levels: number;
  K: number;
  numClasses: number;
  /** [levels × K]: accuracy[t * K + k] = top-1 accuracy of member k of level t. */
  accuracy: Float64Array;
  /**
   * [levels × K × numClasses]: recall[(t * K + k) * numClasses + c] = r(c, t, k), the top-1
   * recall of member k of level t on class c (METHOD.md). NaN for a class with no images.
   */
  recall: Float64Array;
  /** [numClasses]: number of images whose true label is c. */
  support: Uint32Array;
}

/** Per-member accuracy and per-class recall from predictions [levels × K × N] and labels [N]. */
export function memberAccuracy(
  predictions: ClassArray,
  labels: ClassArray,
  levels: number,
  K: number,
  N: number,
  numClasses: number,
): MemberAccuracy {
  assertPredictions(predictions, levels, K, N, numClasses);
  assertLabels(labels, N, numClasses);

  const support = new Uint32Array(numClasses);
  for (let i = 0; i < N; i++) support[labels[i]]++;

  const accuracy = new Float64Array(levels * K);
  const recall = new Float64Array(levels * K * numClasses);
  const hits = new Uint32Array(numClasses);
  for (let m = 0; m < levels * K; m++) {
    hits.fill(0);
    const base = m * N;
    for (let i = 0; i < N; i++) {
      const y = labels[i];
      if (predictions[base + i] === y) hits[y]++;
    }
    let total = 0;
    for (let c = 0; c < numClasses; c++) {
      total += hits[c];
      recall[m * numClasses + c] = support[c] === 0 ? NaN : hits[c] / support[c];
    }
    accuracy[m] = total / N;
  }
  return { levels, K, numClasses, accuracy, recall, support };
}

export interface AccuracySummary extends Summary {
  /** Accuracy of each member, in member order. */
  perMember: number[];
}

/**
 * Top-line accuracy of one level's population: mean, sample sd (n − 1; null for K = 1),
 * min and max over its members.
 */
export function accuracySummary(acc: MemberAccuracy, level: number): AccuracySummary {
  assertLevel(level, acc.levels);
  const members = acc.accuracy.subarray(level * acc.K, (level + 1) * acc.K);
  return { ...summarize(members), perMember: Array.from(members) };
}
