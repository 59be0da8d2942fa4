import { fnv1a32 } from './hash.ts';

/**
 * mulberry32: a tiny seeded PRNG (32-bit state) giving floats in [0, 1). Written by hand because
 * every seed must reproduce the same stream in Node, in workers and in Workers, and the trainer
 * needs nothing stronger than this for init and data order.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stable 32-bit seed from a base seed and names (FNV-1a over the text), e.g. seedFor(1, 'p90', 3). */
export function seedFor(base: number, ...parts: (string | number)[]): number {
  return fnv1a32(parts.join('/'), 0x811c9dc5 ^ (base >>> 0));
}

/** Fisher–Yates shuffle of 0..n-1 driven by `rand`. */
export function permutation(n: number, rand: () => number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i]; p[i] = p[j]; p[j] = t;
  }
  return p;
}

/**
 * Standard normal draws from `rand` by the Box–Muller transform, two per pair of uniforms (the
 * second kept for the next call). Math.log/cos/sin are V8's fdlibm ports in Node, Workers and
 * Chromium alike, so a seed gives the same stream in each.
 */
export function gaussian(rand: () => number): () => number {
  let spare = NaN;
  return () => {
    if (spare === spare) {
      const s = spare;
      spare = NaN;
      return s;
    }
    const u = 1 - rand(); // (0, 1]: log(0) would be -∞
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}
