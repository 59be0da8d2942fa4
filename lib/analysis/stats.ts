import tCdf from '@stdlib/stats-base-dists-t-cdf';

/** Arithmetic mean; NaN for an empty sample. */
export function mean(x: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i];
  return x.length === 0 ? NaN : sum / x.length;
}

/**
 * Sample variance (divisor n − 1); NaN when n < 2.
 * A constant sample returns exactly 0: two-pass rounding could otherwise leave a residue
 * like 1e-34, which would turn the "both samples constant" case of welchTTest into a
 * meaningless huge-but-finite t.
 */
export function sampleVariance(x: ArrayLike<number>): number {
  const n = x.length;
  if (n < 2) return NaN;
  let min = x[0];
  let max = x[0];
  for (let i = 1; i < n; i++) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
  }
  if (min === max) return 0;
  const m = mean(x);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
  return ss / (n - 1);
}

export interface Summary {
  mean: number;
  /** Sample standard deviation (n − 1); null when n < 2. */
  sd: number | null;
  min: number;
  max: number;
}

/** mean / sd / min / max of a non-empty sample. */
export function summarize(x: ArrayLike<number>): Summary {
  if (x.length === 0) throw new RangeError('summarize: expected a non-empty sample, got length 0');
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
  }
  const v = sampleVariance(x);
  return { mean: mean(x), sd: Number.isNaN(v) ? null : Math.sqrt(v), min, max };
}

export interface TTestResult {
  /** (mean(x) − mean(y)) / sqrt(var(x)/nx + var(y)/ny), same sign as scipy's ttest_ind(x, y). */
  t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** Two-sided p-value. */
  p: number;
}

/**
 * Two-sided Welch's t-test (unequal variances), as scipy.stats.ttest_ind(x, y, equal_var=False)
 * — the test METHOD.md prescribes for class-level impact — except in one degenerate case.
 * Only the t distribution's CDF is imported (@stdlib/stats-base-dists-t-cdf); @stdlib/stats-ttest2
 * would do the rest but brings ~300 @stdlib packages and its own degenerate-case rules, and these
 * lines are the ones METHOD.md specifies.
 *
 * Degenerate cases:
 * - n < 2 in either sample: variance is undefined → t, df, p are NaN (as scipy).
 * - both samples constant (both variances 0), equal constants: no difference at all → t = 0,
 *   p = 1, df NaN.
 * - both samples constant, different constants: t = ±Infinity, df NaN, and **(ours)** p = NaN,
 *   so the class is not significant. SciPy (and so the released code) gives p = 0 here, which
 *   counts as significant. We depart because a test needs spread to weigh a difference against:
 *   this happens when, e.g., every member of both populations gets a class exactly right while
 *   the overall accuracies differ — the "change" is then only the shift of overall accuracy.
 *   classImpact counts these classes per level (`constantDiffering`), and `pie report` prints
 *   the count, so a reader comparing with the released code knows how many there are.
 */
export function welchTTest(x: ArrayLike<number>, y: ArrayLike<number>): TTestResult {
  const nx = x.length;
  const ny = y.length;
  if (nx < 2 || ny < 2) return { t: NaN, df: NaN, p: NaN };
  const diff = mean(x) - mean(y);
  const ax = sampleVariance(x) / nx;
  const ay = sampleVariance(y) / ny;
  const se2 = ax + ay;
  if (Number.isNaN(diff) || Number.isNaN(se2)) return { t: NaN, df: NaN, p: NaN };
  if (se2 === 0) {
    // Both samples are constant; compare the constants themselves, since the two means can
    // round differently (mean of three 0.1s ≠ mean of two).
    const d = x[0] - y[0];
    return d === 0
      ? { t: 0, df: NaN, p: 1 }
      : { t: d > 0 ? Infinity : -Infinity, df: NaN, p: NaN };
  }
  const t = diff / Math.sqrt(se2);
  const df = (se2 * se2) / ((ax * ax) / (nx - 1) + (ay * ay) / (ny - 1));
  // cdf(−|t|) is the accurate tail: 1 − cdf(|t|) would cancel to 0 for large |t|.
  const p = Math.min(1, 2 * tCdf(-Math.abs(t), df));
  return { t, df, p };
}

/**
 * Benjamini–Hochberg adjusted p-values (R's p.adjust(p, method = "BH"); scipy's
 * false_discovery_control(p, method = "bh")): p_adj(i) = min over j with rank ≥ rank(i)
 * of m · p(j) / rank(j), capped at 1. NaN p-values stay NaN and are not counted in m,
 * as R does with NA.
 *
 * Written here rather than imported from @stdlib/stats-padjust (which has "bh"): that package
 * throws on a NaN p-value, and classes with no spread to test have p = NaN here (welchTTest),
 * which must stay out of m as R's NA does. It would also bring ~300 @stdlib packages (33 MB
 * installed) for a dozen lines.
 */
export function benjaminiHochberg(p: ArrayLike<number>): Float64Array {
  const out = new Float64Array(p.length).fill(NaN);
  const order: number[] = [];
  for (let i = 0; i < p.length; i++) if (!Number.isNaN(p[i])) order.push(i);
  order.sort((a, b) => p[a] - p[b]);
  const m = order.length;
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    const i = order[r];
    running = Math.min(running, (p[i] * m) / (r + 1));
    out[i] = running;
  }
  return out;
}
