import type { RobustnessSummary, SubgroupSummary } from '../lib/analysis/index.ts';
import { type ClassArray, classBytesFor, newClassArray } from '../lib/class-array.ts';
import { parseCorruptionList } from '../lib/corrupt/index.ts';
import { ConfigError } from './config.ts';
import type { RunContext } from './pipeline.ts';
import type { Manifest } from '../lib/manifest.ts';
import { ROBUSTNESS_FILES } from '../lib/robustness-run.ts';
import { getText, type Store } from '../lib/store.ts';

/** The robustness and subgroup tables of a finished run, from its stored analyses (for `pie report`). */
export async function storedRobustnessReports(store: Store, m: Manifest): Promise<string[]> {
  const out: string[] = [];
  const read = async (path: string) => {
    const text = await getText(store, `${m.runId}/${path}`);
    if (!text) throw new ConfigError(`run ${m.runId}: ${path} is listed in its manifest but missing from the store`);
    return JSON.parse(text);
  };
  if (m.robustness) out.push(formatRobustnessReport(await read(ROBUSTNESS_FILES.analysis) as RobustnessSummary));
  if (m.subgroups) out.push(formatSubgroupReport(await read(ROBUSTNESS_FILES.subgroups) as SubgroupSummary));
  return out;
}

/** --corruptions / --severities / --attributes as config overrides ('none' clears the preset's list). */
export function robustnessOverrides(flags: { corruptions?: string; severities?: number[]; attributes?: string }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (flags.corruptions !== undefined) {
    try {
      out.corruptions = flags.corruptions.trim() === 'none' ? [] : parseCorruptionList(flags.corruptions);
    } catch (err) {
      throw new ConfigError(`--corruptions: ${(err as Error).message}`);
    }
  }
  if (flags.severities !== undefined) out.severities = flags.severities;
  if (flags.attributes !== undefined) out.attributes = flags.attributes;
  return out;
}

/** The test labels in the run's class width. */
export function testLabels(ctx: RunContext): ClassArray {
  const labels = newClassArray(ctx.data.test.n, classBytesFor(ctx.data.numClasses));
  labels.set(ctx.data.test.labels);
  return labels;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : (x * 100).toFixed(1));
const fix = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '—' : x.toFixed(d));

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/**
 * Levels × corrupted sets: accuracy relative to the level's clean accuracy (%), '*' where the
 * level is significantly more fragile than dense (Welch over members, BH-adjusted), then mCE.
 * The closing lines say in numbers whether compressed levels are more fragile than dense.
 */
export function formatRobustnessReport(s: RobustnessSummary): string {
  const keys = s.corruptions.map((c) => c.key);
  const head = ['level', 'clean acc %', ...keys.map((k) => `${k} %`), 'mCE', 'rel. mCE', 'lost'];
  const rows = s.levels.map((l) => [
    l.name,
    pct(l.cleanAccuracy.mean),
    ...l.cells.map((c) => `${pct(c.relative?.mean)}${c.moreFragileAdjusted ? '*' : ' '}`),
    fix(l.mCE),
    fix(l.relativeMCE),
    String(l.cells.reduce((a, c) => a + c.survival.lost, 0)),
  ]);
  const dense = s.levels[0];
  const verdict = s.levels.slice(1).map((l) => {
    const diff = l.cells.map((c) => c.relativeDiff ?? 0);
    const meanDiff = diff.reduce((a, b) => a + b, 0) / Math.max(1, diff.length);
    return `${l.name} ${meanDiff >= 0 ? '+' : ''}${(meanDiff * 100).toFixed(1)} pt, mCE ${fix(l.mCE)}, more fragile on ${l.moreFragileAdjusted}/${l.cells.length}`;
  });
  return [
    `robustness: accuracy on corrupted test sets relative to each level's clean accuracy (%); * = significantly more fragile than dense (Welch over ${s.membersPerLevel} members, BH p ≤ ${s.alpha})`,
    ...table(head, rows),
    `mCE: mean over corruptions of Σ_s error / Σ_s dense error (ImageNet-C, dense = 1); rel. mCE: the same for error added over clean; lost: images (summed over sets) whose level majority changes under the corruption while the dense majority does not`,
    `dense keeps ${pct(dense.cells.reduce((a, c) => a + (c.relative?.mean ?? 0), 0) / Math.max(1, dense.cells.length))} % of its clean accuracy on average; relative to that, per level (mean relative-accuracy difference over sets): ${verdict.join('; ')}`,
  ].join('\n');
}

/** Per level, the subgroups that lose most against the whole test set, with over-indexing among PIEs. */
export function formatSubgroupReport(s: SubgroupSummary, top = 8): string {
  const size = new Map(s.subgroups.map((g) => [g.key, g]));
  const out = [`subgroups: ${s.subgroups.length} (${s.attributes.map((a) => `${a.name}: ${a.values.length} values`).join(', ')}, and pairs); per level the ${top} that lose most relative to the whole test set`];
  for (const l of s.levels.slice(1)) {
    const rows = [...l.rows].sort((a, b) => b.excessChange - a.excessChange).slice(0, top).map((r) => [
      r.key, String(size.get(r.key)!.size), `${pct(r.error.mean)} ± ${pct(r.error.sd)}`, `${r.errorChange >= 0 ? '+' : ''}${pct(r.errorChange)}`,
      fix(r.disparateImpact), `${fix(r.pAdjusted, 3)}${r.hurtAdjusted ? '*' : ' '}`,
      r.overIndex ? `${fix(r.overIndex.ratio)} [${fix(r.overIndex.low)}, ${fix(r.overIndex.high)}]${r.overIndexedAdjusted ? '*' : ' '}` : '—',
    ]);
    out.push('', `${l.name}: error ${pct(l.overallError)} % overall, ${l.pieCount} PIEs; ${l.hurtAdjusted} subgroup(s) significantly hurt, ${l.overIndexedAdjusted} over-indexed among PIEs (BH)`);
    out.push(...table(['subgroup', 'images', 'error %', 'Δ vs dense', 'impact', 'p (BH)', 'PIE over-index [CI]'], rows));
  }
  out.push('', `impact: subgroup's error change ÷ the overall change; p: one-sided Welch over members, "loses more than the whole test set"; over-index: share among PIEs ÷ share of the test set, Clopper–Pearson ${((1 - s.alpha) * 100).toFixed(0)} % interval; * = BH p ≤ ${s.alpha}`);
  return out.join('\n');
}
