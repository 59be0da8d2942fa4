import type { ClassArray } from '../class-array.ts';
import { assertLevel } from './validate.ts';

/**
 * PIE_t = { i : M(i,t) ≠ M(i,0) } (METHOD.md): images whose modal label at level t differs
 * from the dense population's. The true label plays no part. modal: [levels × N] from
 * modalLabels. Returns the image indices in ascending order; level 0 gives an empty set.
 */
export function pieIndices(modal: ClassArray, level: number, N: number): Uint32Array {
  assertModal(modal, N);
  assertLevel(level, modal.length / N);
  const row = level * N;
  let count = 0;
  for (let i = 0; i < N; i++) if (modal[row + i] !== modal[i]) count++;
  const out = new Uint32Array(count);
  let j = 0;
  for (let i = 0; i < N; i++) if (modal[row + i] !== modal[i]) out[j++] = i;
  return out;
}

/** PIE sets of every level, in level order (entry 0, the dense level, is empty). */
export function pieSets(modal: ClassArray, levels: number, N: number): Uint32Array[] {
  if (modal.length !== levels * N) {
    throw new RangeError(`modal: expected length levels × N = ${levels * N}, got ${modal.length}`);
  }
  const sets: Uint32Array[] = [];
  for (let t = 0; t < levels; t++) sets.push(pieIndices(modal, t, N));
  return sets;
}

export interface PieAccuracy {
  /** Mean top-1 accuracy of the dense members on PIE_t; null when PIE_t is empty. */
  densePie: number | null;
  /** Mean top-1 accuracy of the dense members on the images outside PIE_t; null when none. */
  denseNonPie: number | null;
  /** Mean top-1 accuracy of the level-t members on PIE_t; null when PIE_t is empty. */
  levelPie: number | null;
  /** Mean top-1 accuracy of the level-t members outside PIE_t; null when none. */
  levelNonPie: number | null;
}

/**
 * Accuracy of the dense and the level-t populations on PIE_t and on the rest — the paper's
 * "dense models do far worse on PIEs" comparison (METHOD.md). Population accuracy is the mean
 * over members, which with a shared image set equals correct predictions / (K · |set|).
 * Empty sets give null rather than NaN so the result survives JSON.
 */
export function pieAccuracy(
  predictions: ClassArray,
  labels: ClassArray,
  modal: ClassArray,
  level: number,
  K: number,
  N: number,
): PieAccuracy {
  assertModal(modal, N);
  const levels = modal.length / N;
  assertLevel(level, levels);
  if (predictions.length !== levels * K * N) {
    throw new RangeError(`predictions: expected length levels × K × N = ${levels * K * N}, got ${predictions.length}`);
  }
  if (labels.length !== N) throw new RangeError(`labels: expected length N = ${N}, got ${labels.length}`);

  const row = level * N;
  let pieCount = 0;
  for (let i = 0; i < N; i++) if (modal[row + i] !== modal[i]) pieCount++;

  const correct = (t: number): [pie: number, nonPie: number] => {
    let pie = 0;
    let nonPie = 0;
    for (let k = 0; k < K; k++) {
      const base = (t * K + k) * N;
      for (let i = 0; i < N; i++) {
        if (predictions[base + i] !== labels[i]) continue;
        if (modal[row + i] !== modal[i]) pie++;
        else nonPie++;
      }
    }
    return [pie, nonPie];
  };
  const ratio = (n: number, d: number): number | null => (d === 0 ? null : n / d);

  const [densePie, denseNonPie] = correct(0);
  const [levelPie, levelNonPie] = correct(level);
  const nonPieCount = N - pieCount;
  return {
    densePie: ratio(densePie, K * pieCount),
    denseNonPie: ratio(denseNonPie, K * nonPieCount),
    levelPie: ratio(levelPie, K * pieCount),
    levelNonPie: ratio(levelNonPie, K * nonPieCount),
  };
}

function assertModal(modal: ClassArray, N: number): void {
  if (!Number.isInteger(N) || N < 1 || modal.length === 0 || modal.length % N !== 0) {
    throw new RangeError(`modal: expected length levels × N with N = ${N}, got ${modal.length}`);
  }
}
