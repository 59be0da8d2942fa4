// The PIE analysis (METHOD.md): plain functions over typed arrays, plain objects out.
export { analyzeRun } from './run.ts';
export type { AnalyzeRunInput, LevelSummary, RunAnalysis, RunSummary } from './run.ts';
export { modalFromCounts, modalLabels, DEFAULT_TIE_RULE } from './modal.ts';
export type { TieRule } from './modal.ts';
export {
  levelVoteCounts,
  taxicab,
  taxicabDistances,
  taxicabFromCounts,
  voteCounts,
  voteDistribution,
  imageVotes,
  imageVoteStats,
} from './votes.ts';
export type { ImageVotes, ImageVoteStats } from './votes.ts';
export { pieAccuracy, pieIndices, pieSets } from './pie.ts';
export type { PieAccuracy } from './pie.ts';
export { accuracySummary, memberAccuracy } from './accuracy.ts';
export type { AccuracySummary, MemberAccuracy } from './accuracy.ts';
export { classImpact, DEFAULT_ALPHA } from './classes.ts';
export type { ClassImpact, ClassImpactOptions, Direction, ImpactCounts, LevelClassImpact } from './classes.ts';
export { benjaminiHochberg, mean, sampleVariance, summarize, welchTTest } from './stats.ts';
export type { Summary, TTestResult } from './stats.ts';
export { analyzeRobustness, corruptionKey } from './robustness.ts';
export type { CorruptedPredictions, CorruptionError, LevelRobustness, RobustnessAnalysis, RobustnessCell, RobustnessInput, RobustnessSummary } from './robustness.ts';
export { analyzeSubgroups, binomialUpperTail, clopperPearson, subgroupMasks } from './subgroups.ts';
export type { Attribute, LevelSubgroups, SubgroupDef, SubgroupInput, SubgroupRow, SubgroupSummary } from './subgroups.ts';
