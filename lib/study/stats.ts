import hypergeometricPmf from '@stdlib/stats-base-dists-hypergeometric-pmf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';

/** A share k/n with its Wilson score interval. */
export interface Share { count: number; n: number; share: number | null; ci: [number, number] | null }

/**
 * k/n with the Wilson score interval at `confidence` (Wilson 1927): unlike the normal
 * approximation it stays inside 0…1 and is usable for the small, lopsided counts a labeling
 * study produces (0 of 40, 38 of 40). The formula is three lines; the quantile is @stdlib's.
 */
export function wilsonShare(count: number, n: number, confidence = 0.95): Share {
  if (n <= 0) return { count, n, share: null, ci: null };
  const z = normalQuantile(1 - (1 - confidence) / 2, 0, 1);
  const p = count / n, z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { count, n, share: p, ci: [Math.max(0, centre - half), Math.min(1, centre + half)] };
}

/**
 * Two-sided Fisher exact test of a 2×2 table [[a, b], [c, d]] (rows: PIE / non-PIE; columns:
 * marked / not marked): the probability, under the hypergeometric null with the margins fixed,
 * of a table as or less likely than the one observed — R's `fisher.test` rule, with its relative
 * tolerance so that tables of equal probability are not split by rounding. Exact at any sample
 * size, which a labeling study of a few dozen images needs. @stdlib gives the PMF; no package
 * in the registry's @stdlib set offers the 2×2 exact test itself.
 */
export function fisherExact(a: number, b: number, c: number, d: number): number {
  const row1 = a + b, col1 = a + c, total = a + b + c + d;
  if (total === 0) return 1;
  const lo = Math.max(0, col1 - (c + d)), hi = Math.min(row1, col1);
  const observed = hypergeometricPmf(a, total, col1, row1);
  let p = 0;
  for (let x = lo; x <= hi; x++) {
    const px = hypergeometricPmf(x, total, col1, row1);
    if (px <= observed * (1 + 1e-7)) p += px;
  }
  return Math.min(1, p);
}
