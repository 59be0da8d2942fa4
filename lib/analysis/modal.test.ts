import { describe, expect, it } from 'vitest';
import { modalLabels } from './modal.ts';
import { setVotes } from './testing.ts';

// One level, K = 4 members, 3 images: a clear majority, a 2–2 tie, and a plurality (4 with
// two votes against 9 and 6 with one each).
function tiedPredictions(): Uint8Array {
  const K = 4;
  const N = 3;
  const predictions = new Uint8Array(K * N);
  setVotes(predictions, 0, 0, K, N, [5, 5, 5, 1]);
  setVotes(predictions, 0, 1, K, N, [2, 7, 7, 2]);
  setVotes(predictions, 0, 2, K, N, [9, 4, 6, 4]);
  return predictions;
}

describe('modalLabels', () => {
  it('takes the most frequent prediction', () => {
    const modal = modalLabels(tiedPredictions(), 1, 4, 3, 10);
    expect(modal[0]).toBe(5);
    expect(modal[2]).toBe(4);
  });

  it('resolves a 2–2 tie to the larger class by default (released code: pandas mode().max())', () => {
    const modal = modalLabels(tiedPredictions(), 1, 4, 3, 10);
    expect(modal[1]).toBe(7);
  });

  it('resolves ties to the smaller class with tieRule "smallest"', () => {
    const modal = modalLabels(tiedPredictions(), 1, 4, 3, 10, 'smallest');
    expect(Array.from(modal)).toEqual([5, 2, 4]);
  });

  it('breaks a three-way tie by the same rule', () => {
    const predictions = new Uint8Array(3);
    setVotes(predictions, 0, 0, 3, 1, [8, 3, 6]);
    expect(modalLabels(predictions, 1, 3, 1, 10)[0]).toBe(8);
    expect(modalLabels(predictions, 1, 3, 1, 10, 'smallest')[0]).toBe(3);
  });

  it('returns one row per level, [levels × N]', () => {
    const K = 2;
    const N = 2;
    const predictions = new Uint8Array(3 * K * N);
    setVotes(predictions, 1, 0, K, N, [1, 1]);
    setVotes(predictions, 2, 1, K, N, [2, 2]);
    expect(Array.from(modalLabels(predictions, 3, K, N, 3))).toEqual([0, 0, 1, 0, 0, 2]);
  });

  it('rejects a prediction outside [0, numClasses) and names where it is', () => {
    const predictions = new Uint8Array(2 * 2 * 3);
    predictions[(1 * 2 + 1) * 3 + 2] = 10;
    expect(() => modalLabels(predictions, 2, 2, 3, 10)).toThrow(/got 10 \(level 1, member 1, image 2\)/);
  });

  it('rejects a tensor of the wrong length, saying which length it expected', () => {
    expect(() => modalLabels(new Uint8Array(11), 2, 2, 3, 10)).toThrow(/expected length .* = 12, got 11/);
  });

  it('rejects an unknown tie rule', () => {
    // @ts-expect-error: a value that can arrive from untyped JSON
    expect(() => modalLabels(new Uint8Array(4), 1, 4, 1, 2, 'first')).toThrow(/tieRule/);
  });
});
