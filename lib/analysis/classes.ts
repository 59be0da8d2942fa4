import type { MemberAccuracy } from './accuracy.ts';
import { benjaminiHochberg, mean, welchTTest } from './stats.ts';
import { assertAlpha, assertLevel } from './validate.ts';

/** METHOD.md: a class is significantly impacted if p ≤ 0.05. */
export const DEFAULT_ALPHA = 0.05;

export type Direction = 'down' | 'up' | 'none';

/**
 * One class at one level. Numbers that are undefined or infinite are null, so the object is
 * the same after a JSON round trip:
 * - a class with no images has no recall → every number is null;
 * - K < 2 leaves the variances undefined → t, df, p, pAdjusted are null;
 * - both samples constant with different means → t = ±∞ and p are null, not significant and
 *   direction 'none' **(ours)**: SciPy gives p = 0, significant (see welchTTest); counted in
 *   `constantDiffering`.
 */
export interface ClassImpact {
  classIndex: number;
  /** mean(V_c) − mean(B_c): the class's recall change relative to the change in accuracy. */
  normalizedChange: number | null;
  /** Welch t of V_c vs B_c; negative = the class got relatively worse. */
  t: number | null;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number | null;
  /** Two-sided p-value, uncorrected (as the paper). */
  p: number | null;
  /** Benjamini–Hochberg adjusted p across the classes of this level (ours). */
  pAdjusted: number | null;
  significant: boolean;
  significantAdjusted: boolean;
  /** Direction by the uncorrected test, as the paper counts it. */
  direction: Direction;
  /** Mean over dense members of r(c, 0, k). */
  meanRecallDense: number | null;
  /** Mean over level-t members of r(c, t, k). */
  meanRecallLevel: number | null;
}

export interface ImpactCounts {
  down: number;
  up: number;
  downAdjusted: number;
  upAdjusted: number;
}

export interface LevelClassImpact {
  classes: ClassImpact[];
  impacted: ImpactCounts;
  /** Classes whose two samples are both constant with different means: not significant here, p = 0 in SciPy **(ours)**. */
  constantDiffering: number;
}

export interface ClassImpactOptions {
  /** Significance level for p and pAdjusted, in (0, 1). Default 0.05 (METHOD.md). */
  alpha?: number;
}

/**
 * Class-level impact of level t against the dense level (METHOD.md, released code
 * `per_class_accuracy/gen_tstatistic.py`):
 *   Ā_t = mean top-1 accuracy of the level-t population,
 *   B_c = { r(c,0,k) − Ā_0 }_k,  V_c = { r(c,t,k) − Ā_t }_k,
 * then a two-sided Welch t-test of V_c against B_c. The null is "the class moves by the same
 * amount as overall accuracy".
 *
 * Differences from the released code, both deliberate:
 * - it calls ttest_ind(baseline, variant), so its t is positive when a class got worse; here
 *   t = (mean(V) − mean(B)) / se so that the sign matches normalizedChange (negative = worse);
 * - it hard-codes the paper's population accuracies; here Ā_t is computed from the data.
 *
 * Level 0 is compared with itself rather than skipped, so every level has the same rows:
 * V_c = B_c exactly, which gives t = 0, p = 1 and no significant class.
 */
export function classImpact(acc: MemberAccuracy, level: number, options: ClassImpactOptions = {}): LevelClassImpact {
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  assertAlpha(alpha);
  assertLevel(level, acc.levels);
  const { K, numClasses: C } = acc;

  const meanAcc = (t: number) => mean(acc.accuracy.subarray(t * K, (t + 1) * K));
  const denseAcc = meanAcc(0);
  const levelAcc = meanAcc(level);

  // Per-class samples; r(c,t,k) sits at recall[(t * K + k) * C + c].
  const B = new Float64Array(K);
  const V = new Float64Array(K);
  const pValues = new Float64Array(C);
  const down: boolean[] = [];
  const tValues: number[] = [];
  const classes: ClassImpact[] = [];
  for (let c = 0; c < C; c++) {
    let recallDense = 0;
    let recallLevel = 0;
    for (let k = 0; k < K; k++) {
      const r0 = acc.recall[k * C + c];
      const rt = acc.recall[(level * K + k) * C + c];
      recallDense += r0;
      recallLevel += rt;
      B[k] = r0 - denseAcc;
      V[k] = rt - levelAcc;
    }
    const { t, df, p } = welchTTest(V, B);
    tValues.push(t);
    const significant = p <= alpha;
    pValues[c] = p;
    down.push(t < 0);
    classes.push({
      classIndex: c,
      normalizedChange: finiteOrNull(mean(V) - mean(B)),
      t: finiteOrNull(t),
      df: finiteOrNull(df),
      p: finiteOrNull(p),
      pAdjusted: null, // filled in below, once every class has its p
      significant,
      significantAdjusted: false,
      direction: significant ? (t < 0 ? 'down' : 'up') : 'none',
      meanRecallDense: finiteOrNull(recallDense / K),
      meanRecallLevel: finiteOrNull(recallLevel / K),
    });
  }

  const adjusted = benjaminiHochberg(pValues);
  const impacted: ImpactCounts = { down: 0, up: 0, downAdjusted: 0, upAdjusted: 0 };
  for (const row of classes) {
    const c = row.classIndex;
    row.pAdjusted = finiteOrNull(adjusted[c]);
    row.significantAdjusted = adjusted[c] <= alpha;
    if (row.significant) impacted[down[c] ? 'down' : 'up']++;
    if (row.significantAdjusted) impacted[down[c] ? 'downAdjusted' : 'upAdjusted']++;
  }
  // t = ±∞ only when both samples are constant with different constants (welchTTest).
  const constantDiffering = tValues.filter((t) => t === Infinity || t === -Infinity).length;
  return { classes, impacted, constantDiffering };
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
