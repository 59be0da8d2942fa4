import { type AccuracySummary, accuracySummary, memberAccuracy } from './accuracy.ts';
import { type ClassImpact, classImpact, DEFAULT_ALPHA, type ImpactCounts } from './classes.ts';
import { DEFAULT_TIE_RULE, type TieRule } from './modal.ts';
import { type PieAccuracy, pieAccuracy, pieIndices } from './pie.ts';
import type { ClassArray } from '../class-array.ts';
import { assertAlpha, assertLabels, assertPredictions, assertTieRule } from './validate.ts';
import { imageVoteStats } from './votes.ts';

export interface AnalyzeRunInput {
  /**
   * [levels × K × N]: predictions[(t * K + k) * N + i] = class predicted for image i by member
   * k of level t. Level 0 is the dense population every other level is compared with.
   */
  predictions: ClassArray;
  /** [N] true labels. */
  labels: ClassArray;
  /**
   * Number of classes, 1–65 536; every prediction and label must be below it. Above 256,
   * predictions and labels are Uint16Arrays (lib/class-array.ts).
   */
  numClasses: number;
  /** One name per level, level 0 first (e.g. ['dense', 'p50', 'p90', 'int8dyn']); unique. */
  levelNames: string[];
  /** Members per level (the same for every level), ≥ 1; the class tests need ≥ 2. */
  K: number;
  /** Tie rule for modal labels. Default 'largest', the released code's (METHOD.md). */
  tieRule?: TieRule;
  /** Significance level of the class tests, in (0, 1). Default 0.05 (METHOD.md). */
  alpha?: number;
}

export interface LevelSummary {
  name: string;
  /** Top-line accuracy of the level's population. */
  accuracy: AccuracySummary;
  /** |PIE_t|; 0 for the dense level. */
  pieCount: number;
  /** PIE_t, ascending image indices. */
  pies: number[];
  /** One row per class, in class order. */
  classes: ClassImpact[];
  /** Number of classes significantly down / up, uncorrected and BH-adjusted. */
  impacted: ImpactCounts;
  /** Classes not tested because both samples are constant with different means (SciPy: p = 0) **(ours)**. */
  constantDiffering: number;
  /** Dense and level-t accuracy on PIE_t and on the rest. */
  pieAccuracy: PieAccuracy;
}

/** JSON-ready: numbers are finite or null, arrays are plain. */
export interface RunSummary {
  numImages: number;
  numClasses: number;
  membersPerLevel: number;
  tieRule: TieRule;
  alpha: number;
  levels: LevelSummary[];
}

export interface RunAnalysis {
  summary: RunSummary;
  /** Per-image bulk data, kept as typed arrays (store them as binary, not JSON). */
  perImage: {
    /** [levels × N]: modal label M(i, t) at modal[t * N + i]. */
    modal: ClassArray;
    /** [levels × N]: taxicab distance of v(i, t) from v(i, 0), in [0, 2]; row 0 is all 0. */
    taxicab: Float32Array;
  };
}

/**
 * The whole PIE analysis of one run (METHOD.md): modal labels, PIE sets, taxicab scores,
 * population accuracy, class-level Welch tests and PIE vs non-PIE accuracy for every level.
 */
export function analyzeRun(input: AnalyzeRunInput): RunAnalysis {
  const { predictions, labels, numClasses, levelNames, K } = input;
  const { tieRule, alpha, levels, N } = checkPopulation(predictions, input);

  // One sparse vote-count pass per image feeds both the modal label and the taxicab score.
  const { modal, taxicab } = imageVoteStats(predictions, levels, K, N, numClasses, tieRule);

  const acc = memberAccuracy(predictions, labels, levels, K, N, numClasses);
  const summaries = levelNames.map((name, t): LevelSummary => {
    const pies = pieIndices(modal, t, N);
    const { classes, impacted, constantDiffering } = classImpact(acc, t, { alpha });
    return {
      name,
      accuracy: accuracySummary(acc, t),
      pieCount: pies.length,
      pies: Array.from(pies),
      classes,
      impacted,
      constantDiffering,
      pieAccuracy: pieAccuracy(predictions, labels, modal, t, K, N),
    };
  });

  return {
    summary: { numImages: N, numClasses, membersPerLevel: K, tieRule, alpha, levels: summaries },
    perImage: { modal, taxicab },
  };
}

/**
 * The checks and defaults every analysis of a [levels × K × N] prediction tensor starts with
 * (the run's, the robustness and the subgroup analyses): valid level names, predictions, labels,
 * tie rule and alpha. Returns the settings with their defaults, and the sizes.
 */
export function checkPopulation(
  predictions: ClassArray,
  input: Omit<AnalyzeRunInput, 'predictions'>,
): { tieRule: TieRule; alpha: number; levels: number; N: number } {
  const tieRule = input.tieRule ?? DEFAULT_TIE_RULE;
  const alpha = input.alpha ?? DEFAULT_ALPHA;
  assertLevelNames(input.levelNames);
  const levels = input.levelNames.length;
  const N = input.labels.length;
  assertPredictions(predictions, levels, input.K, N, input.numClasses);
  assertLabels(input.labels, N, input.numClasses);
  assertTieRule(tieRule);
  assertAlpha(alpha);
  return { tieRule, alpha, levels, N };
}

function assertLevelNames(levelNames: string[]): void {
  if (!Array.isArray(levelNames) || levelNames.length === 0) {
    throw new RangeError('levelNames: expected at least one level name (level 0 = dense), got none');
  }
  const seen = new Set<string>();
  for (const name of levelNames) {
    if (typeof name !== 'string' || name === '') {
      throw new RangeError(`levelNames: expected non-empty strings, got ${JSON.stringify(name)}`);
    }
    if (seen.has(name)) throw new RangeError(`levelNames: expected unique names, got "${name}" twice`);
    seen.add(name);
  }
}
