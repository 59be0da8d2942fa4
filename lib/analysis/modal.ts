import { type ClassArray, classBytesFor, newClassArray } from '../class-array.ts';
import { imageVoteStats } from './votes.ts';

/**
 * How a tied mode is broken. METHOD.md: the released code takes the largest tied class index
 * (pandas `mode().max()`), other implementations the smallest; 'largest' is the default.
 */
export type TieRule = 'largest' | 'smallest';

export const DEFAULT_TIE_RULE: TieRule = 'largest';

/**
 * Modal label of each image from one level's vote counts [N × numClasses]. Returns [N].
 */
export function modalFromCounts(
  counts: Uint16Array,
  N: number,
  numClasses: number,
  tieRule: TieRule = DEFAULT_TIE_RULE,
  out: ClassArray = newClassArray(N, classBytesFor(numClasses)),
): ClassArray {
  const largest = tieRule === 'largest';
  for (let i = 0; i < N; i++) {
    const row = i * numClasses;
    let best = 0;
    let bestCount = counts[row];
    for (let c = 1; c < numClasses; c++) {
      const n = counts[row + c];
      // Scanning classes upward: `>=` lets a later (larger) tied class win, `>` keeps the first.
      if (largest ? n >= bestCount : n > bestCount) {
        best = c;
        bestCount = n;
      }
    }
    out[i] = best;
  }
  return out;
}

/**
 * Modal label M(i, t) = mode over the level's members of the predicted class (METHOD.md).
 * predictions: [levels × K × N]. Returns [levels × N]: out[t * N + i] = M(i, t).
 */
export function modalLabels(
  predictions: ClassArray,
  levels: number,
  K: number,
  N: number,
  numClasses: number,
  tieRule: TieRule = DEFAULT_TIE_RULE,
): ClassArray {
  return imageVoteStats(predictions, levels, K, N, numClasses, tieRule).modal;
}
