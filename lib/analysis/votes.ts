import { assertLevel, assertPredictions } from './validate.ts';

// Prediction tensor layout used throughout: predictions[(t * K + k) * N + i] is the class
// member k of level t predicts for image i; level 0 is the dense population.

/**
 * Vote counts of one level: out[i * numClasses + c] = number of level-t members that predict
 * class c for image i. Shape [N × numClasses]. Iterates member-major so the reads of
 * `predictions` are sequential.
 */
export function levelVoteCounts(
  predictions: Uint8Array,
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

/** Vote counts of every level, shape [levels × N × numClasses]. */
export function voteCounts(
  predictions: Uint8Array,
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
  predictions: Uint8Array,
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
  predictions: Uint8Array,
  levels: number,
  K: number,
  N: number,
  numClasses: number,
): Float32Array {
  assertPredictions(predictions, levels, K, N, numClasses);
  const out = new Float32Array(levels * N);
  const dense = levelVoteCounts(predictions, 0, K, N, numClasses);
  const counts = new Uint16Array(N * numClasses);
  // Row 0 stays 0: the dense level compared with itself.
  for (let t = 1; t < levels; t++) {
    levelVoteCounts(predictions, t, K, N, numClasses, counts);
    taxicabFromCounts(counts, dense, K, N, numClasses, out.subarray(t * N, (t + 1) * N));
  }
  return out;
}
