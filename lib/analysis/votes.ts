import { type ClassArray, classBytesFor, newClassArray } from '../class-array.ts';
import type { TieRule } from './modal.ts';
import { assertLevel, assertPredictions, assertTieRule } from './validate.ts';

// Prediction tensor layout used throughout: predictions[(t * K + k) * N + i] is the class
// member k of level t predicts for image i; level 0 is the dense population.

/**
 * Vote counts of one level: out[i * numClasses + c] = number of level-t members that predict
 * class c for image i. Shape [N × numClasses]. Iterates member-major so the reads of
 * `predictions` are sequential.
 */
export function levelVoteCounts(
  predictions: ClassArray,
  level: number,
  K: number,
  N: number,
  numClasses: number,
  out: Uint16Array = new Uint16Array(N * numClasses),
): Uint16Array {
  out.fill(0);
  for (let k = 0; k < K; k++) {
    const row = (level * K + k) * N;
    for (let i = 0; i < N; i++) out[i * numClasses + predictions[row + i]]++;
  }
  return out;
}

/**
 * Vote counts of every level, shape [levels × N × numClasses]. Dense, so only for small runs:
 * at 50k images × 1000 classes one level alone is 100 MB — use imageVoteStats or imageVotes.
 */
export function voteCounts(
  predictions: ClassArray,
  levels: number,
  K: number,
  N: number,
  numClasses: number,
): Uint16Array {
  assertPredictions(predictions, levels, K, N, numClasses);
  const out = new Uint16Array(levels * N * numClasses);
  const size = N * numClasses;
  for (let t = 0; t < levels; t++) {
    levelVoteCounts(predictions, t, K, N, numClasses, out.subarray(t * size, (t + 1) * size));
  }
  return out;
}

/**
 * Vote distribution v(i, t) (METHOD.md): fraction of the level's K members predicting each
 * class for one image. Shape [numClasses], sums to 1.
 */
export function voteDistribution(
  predictions: ClassArray,
  level: number,
  image: number,
  K: number,
  N: number,
  numClasses: number,
): Float32Array {
  if (!Number.isInteger(image) || image < 0 || image >= N) {
    throw new RangeError(`image: expected an integer in [0, ${N - 1}], got ${image}`);
  }
  if (predictions.length % (K * N) !== 0) {
    throw new RangeError(`predictions: expected a multiple of K × N = ${K * N} values, got ${predictions.length}`);
  }
  assertLevel(level, predictions.length / (K * N));
  const v = new Float32Array(numClasses);
  for (let k = 0; k < K; k++) {
    const c = predictions[(level * K + k) * N + image];
    if (c >= numClasses) throw new RangeError(`predictions: expected class indices < ${numClasses}, got ${c}`);
    v[c] += 1;
  }
  for (let c = 0; c < numClasses; c++) v[c] /= K;
  return v;
}

/**
 * Taxicab distance Σ_c |v_c(i,t) − v_c(i,0)| between two vote distributions, in [0, 2]
 * (Hooker et al. 2020, as METHOD.md; exposed to rank a review queue).
 */
export function taxicab(vt: ArrayLike<number>, v0: ArrayLike<number>): number {
  if (vt.length !== v0.length) {
    throw new RangeError(`taxicab: expected distributions of equal length, got ${vt.length} and ${v0.length}`);
  }
  let d = 0;
  for (let c = 0; c < vt.length; c++) d += Math.abs(vt[c] - v0[c]);
  return d;
}

/**
 * Taxicab distance of every image from level-t counts and dense counts (both [N × numClasses],
 * each row summing to K). Works on integer counts and divides once, so identical vote
 * distributions give exactly 0. Returns [N].
 */
export function taxicabFromCounts(
  countsLevel: Uint16Array,
  countsDense: Uint16Array,
  K: number,
  N: number,
  numClasses: number,
  out: Float32Array = new Float32Array(N),
): Float32Array {
  for (let i = 0; i < N; i++) {
    const row = i * numClasses;
    let d = 0;
    for (let c = 0; c < numClasses; c++) {
      const diff = countsLevel[row + c] - countsDense[row + c];
      d += diff < 0 ? -diff : diff;
    }
    out[i] = d / K;
  }
  return out;
}

/** Taxicab distance of every image at every level from the dense level, shape [levels × N]. */
export function taxicabDistances(
  predictions: ClassArray,
  levels: number,
  K: number,
  N: number,
  numClasses: number,
): Float32Array {
  return imageVoteStats(predictions, levels, K, N, numClasses).taxicab;
}

/** The sparse vote counts of one image at one level: its distinct predicted classes, ascending, with their counts. */
export interface ImageVotes {
  classes: number[];
  counts: number[];
}

/**
 * Vote counts of image i at level t, sparse: at most K entries whatever the number of
 * classes. predictions: [levels × K × N].
 */
export function imageVotes(predictions: ClassArray, level: number, image: number, K: number, N: number): ImageVotes {
  const votes: number[] = [];
  for (let k = 0; k < K; k++) votes.push(predictions[(level * K + k) * N + image]);
  votes.sort((a, b) => a - b);
  const classes: number[] = [], counts: number[] = [];
  for (const c of votes) {
    if (classes.length && classes[classes.length - 1] === c) counts[counts.length - 1]++;
    else { classes.push(c); counts.push(1); }
  }
  return { classes, counts };
}

export interface ImageVoteStats {
  /** [levels × N]: modal label M(i, t) at modal[t * N + i], 1 or 2 bytes as the class count needs. */
  modal: ClassArray;
  /** [levels × N]: taxicab distance of v(i, t) from v(i, 0), in [0, 2]; row 0 is all 0. */
  taxicab: Float32Array;
  /** [levels × N]: how many of the level's K members vote for its modal label. */
  modalVotes: Uint16Array;
}

/**
 * Modal labels, taxicab distances and modal vote counts of every image at every level, from
 * predictions [levels × K × N], without any images × classes array: each image's votes are
 * counted in a scratch row of numClasses counters, touching only the ≤ K classes voted for
 * (and clearing just those), so time is O(levels · K · N) and memory O(levels · N + numClasses)
 * — what lets a 1000-class run be analysed and served in little memory.
 */
export function imageVoteStats(
  predictions: ClassArray,
  levels: number,
  K: number,
  N: number,
  numClasses: number,
  tieRule: TieRule = 'largest',
): ImageVoteStats {
  assertPredictions(predictions, levels, K, N, numClasses);
  assertTieRule(tieRule);
  const largest = tieRule === 'largest';
  const modal = newClassArray(levels * N, classBytesFor(numClasses));
  const modalVotes = new Uint16Array(levels * N);
  const taxicab = new Float32Array(levels * N);
  const dense = new Uint16Array(numClasses), level = new Uint16Array(numClasses);
  const denseSeen = new Int32Array(K), levelSeen = new Int32Array(K);

  // Counts image i's level-t votes into `counts`, lists the distinct classes in `seen`, and
  // stores the modal label (ties by the rule, as modalFromCounts scans them).
  const count = (t: number, i: number, counts: Uint16Array, seen: Int32Array): number => {
    let n = 0;
    for (let k = 0; k < K; k++) {
      const c = predictions[(t * K + k) * N + i];
      if (counts[c]++ === 0) seen[n++] = c;
    }
    let best = -1, bestCount = 0;
    for (let j = 0; j < n; j++) {
      const c = seen[j], v = counts[c];
      if (v > bestCount || (v === bestCount && (largest ? c > best : c < best))) { best = c; bestCount = v; }
    }
    modal[t * N + i] = best;
    modalVotes[t * N + i] = bestCount;
    return n;
  };

  for (let i = 0; i < N; i++) {
    const nd = count(0, i, dense, denseSeen);
    for (let t = 1; t < levels; t++) {
      const nl = count(t, i, level, levelSeen);
      // Σ_c |level_c − dense_c| over the classes either population voted for.
      let d = 0;
      for (let j = 0; j < nl; j++) { const c = levelSeen[j]; d += Math.abs(level[c] - dense[c]); }
      for (let j = 0; j < nd; j++) { const c = denseSeen[j]; if (level[c] === 0) d += dense[c]; }
      taxicab[t * N + i] = d / K;
      for (let j = 0; j < nl; j++) level[levelSeen[j]] = 0;
    }
    for (let j = 0; j < nd; j++) dense[denseSeen[j]] = 0;
  }
  return { modal, taxicab, modalVotes };
}
