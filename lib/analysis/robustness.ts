import { memberAccuracy } from './accuracy.ts';
import type { ClassArray } from '../class-array.ts';
import type { TieRule } from './modal.ts';
import { checkPopulation } from './run.ts';
import { benjaminiHochberg, mean, summarize, type Summary, welchTTest } from './stats.ts';
import { assertPredictions } from './validate.ts';
import { imageVoteStats } from './votes.ts';

// Corruption robustness of every level against the dense population (ImageNet-C, Hendrycks &
// Dietterich 2019; the paper's "compressed models are more fragile" finding). Every prediction
// matrix has the layout of lib/analysis: predictions[(t * K + k) * N + i], level 0 dense, and
// member k of level t is the same model on the clean and on every corrupted test set.

/** One corrupted test set's predictions: `name` at `severity`, keyed `name-severity` (e.g. motion_blur-3). */
export interface CorruptedPredictions {
  name: string;
  severity: number;
  /** [levels × K × N], same members in the same order as the clean predictions. */
  predictions: ClassArray;
}

export interface RobustnessInput {
  /** [levels × K × N] on the clean test set. */
  clean: ClassArray;
  corrupted: CorruptedPredictions[];
  /** [N] true labels (a corruption keeps the label). */
  labels: ClassArray;
  numClasses: number;
  levelNames: string[];
  K: number;
  tieRule?: TieRule;
  alpha?: number;
}

/** The key of a corrupted test set, as the API's `?corruption=` takes it. */
export const corruptionKey = (name: string, severity: number) => `${name}-${severity}`;

/** One level on one corrupted test set. Non-finite numbers are null (JSON round trip). */
export interface RobustnessCell {
  /** name-severity, e.g. motion_blur-3. */
  key: string;
  corruption: string;
  severity: number;
  /** Top-1 accuracy on the corrupted set over the level's members (mean, sd, min, max). */
  accuracy: Summary;
  /**
   * Per member, corrupted accuracy ÷ that member's clean accuracy; mean and sd over members
   * (1 = unaffected). Null when a member's clean accuracy is 0.
   */
  relative: { mean: number; sd: number | null } | null;
  /**
   * mean relative accuracy of the level − that of the dense population: negative means the
   * level loses a larger share of its accuracy than dense does (more fragile).
   */
  relativeDiff: number | null;
  /** Two-sided Welch test of the members' relative accuracy, level vs dense; t < 0 = more fragile. */
  t: number | null;
  df: number | null;
  p: number | null;
  /** Benjamini–Hochberg over the corrupted sets of this level (ours, as for classes). */
  pAdjusted: number | null;
  /** p ≤ α and t < 0: significantly more fragile than dense. */
  moreFragile: boolean;
  moreFragileAdjusted: boolean;
  /**
   * Error ratio on this set: E_t / E_0 with E the population's mean top-1 error (ImageNet-C's CE
   * for one severity, dense as the baseline). Null when dense makes no error.
   */
  errorRatio: number | null;
  /**
   * Images whose dense modal label survives the corruption (is the same as on the clean set),
   * and how many of them keep the level's modal label too. `share` = kept / denseSurvived;
   * `lost` = denseSurvived − kept: images where the corruption moves this level's majority but
   * not the dense one's.
   */
  survival: { denseSurvived: number; kept: number; lost: number; share: number | null };
}

/** ImageNet-C's corruption error of a level for one corruption, over the severities run. */
export interface CorruptionError {
  corruption: string;
  severities: number[];
  /** CE = Σ_s E_t(c, s) / Σ_s E_0(c, s); 1 for the dense level. Null when dense makes no error. */
  ce: number | null;
  /**
   * Relative CE = Σ_s (E_t(c, s) − E_t,clean) / Σ_s (E_0(c, s) − E_0,clean): how much of its
   * error the corruption adds, against dense. Null when the corruption adds no error to dense.
   */
  relativeCe: number | null;
}

export interface LevelRobustness {
  name: string;
  /** Clean accuracy over members, the reference of `relative`. */
  cleanAccuracy: Summary;
  /** One cell per corrupted set, in input order. */
  cells: RobustnessCell[];
  /** One per corruption name, in first-seen order. */
  corruptionErrors: CorruptionError[];
  /** Mean CE over corruptions (null when any CE is null). */
  mCE: number | null;
  relativeMCE: number | null;
  /** Corrupted sets on which the level is significantly more fragile than dense (uncorrected, BH). */
  moreFragile: number;
  moreFragileAdjusted: number;
}

export interface RobustnessSummary {
  alpha: number;
  tieRule: TieRule;
  numImages: number;
  membersPerLevel: number;
  /** The corrupted sets, in input order. */
  corruptions: { key: string; corruption: string; severity: number }[];
  levels: LevelRobustness[];
}

export interface RobustnessAnalysis {
  summary: RobustnessSummary;
  /**
   * Per corrupted set, [levels × N] modal labels under the corruption (1 or 2 bytes as the
   * run's class width), in input order — what the survival counts and per-image answers use.
   */
  modal: ClassArray[];
}

/**
 * Accuracy, relative accuracy, fragility tests, CE / mCE with dense as the baseline and modal
 * label survival, for every level on every corrupted test set.
 */
export function analyzeRobustness(input: RobustnessInput): RobustnessAnalysis {
  const { clean, corrupted, labels, numClasses, levelNames, K } = input;
  const { tieRule, alpha, levels, N } = checkPopulation(clean, input);
  const keys = new Set<string>();
  for (const c of corrupted) {
    const key = corruptionKey(c.name, c.severity);
    if (keys.has(key)) throw new RangeError(`corrupted: ${key} is given twice`);
    keys.add(key);
    if (c.predictions.constructor !== clean.constructor) {
      throw new RangeError(`corrupted ${key}: predictions must have the clean predictions' class width (${clean.BYTES_PER_ELEMENT} byte(s) per class index)`);
    }
    assertPredictions(c.predictions, levels, K, N, numClasses);
  }

  const cleanAcc = memberAccuracy(clean, labels, levels, K, N, numClasses).accuracy;
  const cleanModal = imageVoteStats(clean, levels, K, N, numClasses, tieRule).modal;
  const members = (a: Float64Array, t: number) => a.subarray(t * K, (t + 1) * K);
  const meanError = (a: Float64Array, t: number) => 1 - mean(members(a, t));

  const perSet = corrupted.map((c) => ({
    acc: memberAccuracy(c.predictions, labels, levels, K, N, numClasses).accuracy,
    modal: imageVoteStats(c.predictions, levels, K, N, numClasses, tieRule).modal,
  }));
  // Relative accuracy per member: corrupted / clean of the same model.
  const relativeOf = (acc: Float64Array, t: number): Float64Array | null => {
    const out = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      const base = cleanAcc[t * K + k];
      if (base === 0) return null;
      out[k] = acc[t * K + k] / base;
    }
    return out;
  };

  const order: string[] = [];
  for (const c of corrupted) if (!order.includes(c.name)) order.push(c.name);

  const result: LevelRobustness[] = levelNames.map((name, t) => {
    const cells: RobustnessCell[] = corrupted.map((c, j) => {
      const { acc, modal } = perSet[j];
      const rel = relativeOf(acc, t);
      const relDense = relativeOf(acc, 0);
      const test = rel && relDense ? welchTTest(rel, relDense) : { t: NaN, df: NaN, p: NaN };
      const relStats = rel ? summarize(rel) : null;
      const e0 = meanError(acc, 0);
      let denseSurvived = 0, kept = 0;
      for (let i = 0; i < N; i++) {
        if (modal[i] !== cleanModal[i]) continue;
        denseSurvived++;
        if (modal[t * N + i] === cleanModal[t * N + i]) kept++;
      }
      return {
        key: corruptionKey(c.name, c.severity),
        corruption: c.name,
        severity: c.severity,
        accuracy: summarize(members(acc, t)),
        relative: relStats && { mean: relStats.mean, sd: relStats.sd },
        relativeDiff: rel && relDense ? finiteOrNull(mean(rel) - mean(relDense)) : null,
        t: finiteOrNull(test.t),
        df: finiteOrNull(test.df),
        p: finiteOrNull(test.p),
        pAdjusted: null,
        moreFragile: test.p <= alpha && test.t < 0,
        moreFragileAdjusted: false,
        errorRatio: e0 === 0 ? null : finiteOrNull(meanError(acc, t) / e0),
        survival: { denseSurvived, kept, lost: denseSurvived - kept, share: denseSurvived ? kept / denseSurvived : null },
      };
    });
    const adjusted = benjaminiHochberg(cells.map((c) => c.p ?? NaN));
    cells.forEach((c, j) => {
      c.pAdjusted = finiteOrNull(adjusted[j]);
      c.moreFragileAdjusted = adjusted[j] <= alpha && (c.t ?? 0) < 0;
    });

    const cleanErr = (u: number) => 1 - mean(members(cleanAcc, u));
    const corruptionErrors: CorruptionError[] = order.map((cname) => {
      const idx = corrupted.flatMap((c, j) => (c.name === cname ? [j] : []));
      let et = 0, e0 = 0, rt = 0, r0 = 0;
      for (const j of idx) {
        et += meanError(perSet[j].acc, t);
        e0 += meanError(perSet[j].acc, 0);
        rt += meanError(perSet[j].acc, t) - cleanErr(t);
        r0 += meanError(perSet[j].acc, 0) - cleanErr(0);
      }
      return {
        corruption: cname,
        severities: idx.map((j) => corrupted[j].severity),
        ce: e0 === 0 ? null : finiteOrNull(et / e0),
        relativeCe: r0 <= 0 ? null : finiteOrNull(rt / r0),
      };
    });
    const meanOf = (xs: (number | null)[]) => (xs.length && xs.every((x) => x !== null) ? mean(xs as number[]) : null);
    return {
      name,
      cleanAccuracy: summarize(members(cleanAcc, t)),
      cells,
      corruptionErrors,
      mCE: meanOf(corruptionErrors.map((e) => e.ce)),
      relativeMCE: meanOf(corruptionErrors.map((e) => e.relativeCe)),
      moreFragile: cells.filter((c) => c.moreFragile).length,
      moreFragileAdjusted: cells.filter((c) => c.moreFragileAdjusted).length,
    };
  });

  return {
    summary: {
      alpha, tieRule, numImages: N, membersPerLevel: K,
      corruptions: corrupted.map((c) => ({ key: corruptionKey(c.name, c.severity), corruption: c.name, severity: c.severity })),
      levels: result,
    },
    modal: perSet.map((s) => s.modal),
  };
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
