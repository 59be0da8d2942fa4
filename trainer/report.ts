import type { Manifest } from '../lib/manifest.ts';
import { paramSpecs } from '../lib/model/arch.ts';

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}`);

/** The per-level table `pie report` prints: accuracy, # PIEs, classes impacted, PIE vs non-PIE accuracy. */
export function formatReport(m: Manifest): string {
  const dims = m.architecture.dims;
  // Weights per prunable tensor, in layerSparsity's order (a CNN's: paramSpecs' prunable kernels).
  const arch = m.architecture.arch;
  const sizes = arch
    ? paramSpecs(arch).filter((p) => p.prunable).map((p) => p.shape.reduce((a, b) => a * b, 1))
    : dims.slice(1).map((d, l) => d * dims[l]);
  // Measured fraction of zero weights over all of a level's members (METHOD.md: equals the target).
  const measured = (t: number) => {
    const members = m.levels[t].members;
    const zeros = members.reduce((a, mem) => a + mem.layerSparsity.reduce((b, s, l) => b + s * sizes[l], 0), 0);
    return zeros / (members.length * sizes.reduce((a, b) => a + b, 0));
  };
  const head = ['level', 'sparsity %', 'acc % mean±sd', 'min–max', 'PIEs', 'classes ↓/↑', '(BH ↓/↑)', 'dense on PIE', 'level on PIE', 'dense non-PIE', 'level non-PIE'];
  const rows = m.metrics.levels.map((l, t) => [
    l.name,
    m.levels[t].kind === 'quantized' ? '—' : (measured(t) * 100).toFixed(2),
    `${pct(l.accuracy.mean)} ± ${pct(l.accuracy.sd)}`,
    `${pct(l.accuracy.min)}–${pct(l.accuracy.max)}`,
    String(l.pieCount),
    `${l.impacted.down}/${l.impacted.up}`,
    `${l.impacted.downAdjusted}/${l.impacted.upAdjusted}`,
    pct(l.pieAccuracy.densePie),
    pct(l.pieAccuracy.levelPie),
    pct(l.pieAccuracy.denseNonPie),
    pct(l.pieAccuracy.levelNonPie),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  const t = m.metrics.training, e = m.metrics.evaluation;
  return [
    `run ${m.runId}: ${m.dataset.name} (${m.dataset.testSize} test images), ${m.architecture.name}, K = ${m.K} per level, engine ${m.engine.backend}`,
    '',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `PIE: the level's modal label differs from the dense population's. Classes: Welch t-test p ≤ ${String(m.settings.alpha ?? 0.05)} (BH: Benjamini–Hochberg adjusted).`,
    constantLine(m),
    `training: ${Math.round(t.examplesPerSecondPerWorker)} examples/s per worker, ${Math.round(t.examplesPerSecondTotal)} in total (${t.seconds.toFixed(0)} s); ` +
      `evaluation: ${Math.round(e.imagesPerSecond)} images/s; kernels = tfjs on ${(m.metrics.kernelAgreement * 100).toFixed(2)} % of predictions`,
  ].join('\n');
}

/**
 * Classes whose recall is constant in both populations with different means: not significant
 * here, p = 0 (significant) in SciPy and the released code — ours, so the report says how many.
 */
function constantLine(m: Manifest): string {
  const per = m.metrics.levels.slice(1).map((l) => `${l.name} ${l.constantDiffering ?? 0}`);
  return `classes with constant recall in both populations (t = ±∞; not counted as significant, SciPy would give p = 0): ${per.join(', ')}`;
}
