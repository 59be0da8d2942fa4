import { type ClassArray, classCapacity, MAX_CLASSES } from '../class-array.ts';

// Up-front input checks shared by the public functions. Messages say what was expected and
// what was received, so a caller can surface them unchanged as a bad-input error.

function assertCount(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name}: expected an integer in [${min}, ${max}], got ${value}`);
  }
}

/**
 * Checks the prediction tensor [levels × K × N] and its dimensions. Class indices must be
 * < numClasses: vote counting indexes by them, and an out-of-range value would silently
 * land in a neighbouring image's counts.
 */
export function assertPredictions(
  predictions: ClassArray,
  levels: number,
  K: number,
  N: number,
  numClasses: number,
): void {
  assertCount('levels', levels, 1, 2 ** 16);
  // Vote counts are Uint16.
  assertCount('K (members per level)', K, 1, 65535);
  assertCount('N (images)', N, 1, 2 ** 31 - 1);
  assertCount('numClasses', numClasses, 1, MAX_CLASSES);
  assertWidth('predictions', predictions, numClasses);
  const expected = levels * K * N;
  if (predictions.length !== expected) {
    throw new RangeError(
      `predictions: expected length levels × K × N = ${levels} × ${K} × ${N} = ${expected}, got ${predictions.length}`,
    );
  }
  if (numClasses < classCapacity(predictions)) {
    for (let j = 0; j < predictions.length; j++) {
      if (predictions[j] >= numClasses) {
        const i = j % N;
        const k = Math.floor(j / N) % K;
        const t = Math.floor(j / (N * K));
        throw new RangeError(
          `predictions: expected class indices < ${numClasses}, got ${predictions[j]} (level ${t}, member ${k}, image ${i})`,
        );
      }
    }
  }
}

/** Class indices of a run with more than 256 classes need two bytes each (lib/class-array.ts). */
function assertWidth(name: string, a: ClassArray, numClasses: number): void {
  if (!(a instanceof Uint8Array || a instanceof Uint16Array)) {
    throw new TypeError(`${name}: expected a Uint8Array or Uint16Array of class indices`);
  }
  if (numClasses > classCapacity(a)) {
    throw new RangeError(`${name}: ${numClasses} classes need 2-byte class indices (a Uint16Array), got a Uint8Array`);
  }
}

export function assertLabels(labels: ClassArray, N: number, numClasses: number): void {
  if (labels.length !== N) {
    throw new RangeError(`labels: expected length N = ${N}, got ${labels.length}`);
  }
  assertWidth('labels', labels, numClasses);
  if (numClasses < classCapacity(labels)) {
    for (let i = 0; i < N; i++) {
      if (labels[i] >= numClasses) {
        throw new RangeError(`labels: expected class indices < ${numClasses}, got ${labels[i]} (image ${i})`);
      }
    }
  }
}

export function assertLevel(level: number, levels: number): void {
  if (!Number.isInteger(level) || level < 0 || level >= levels) {
    throw new RangeError(`level: expected an integer in [0, ${levels - 1}], got ${level}`);
  }
}

export function assertAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha: expected a number in (0, 1), got ${alpha}`);
}

export function assertTieRule(tieRule: string): void {
  if (tieRule !== 'largest' && tieRule !== 'smallest') {
    throw new RangeError(`tieRule: expected 'largest' or 'smallest', got ${JSON.stringify(tieRule)}`);
  }
}
