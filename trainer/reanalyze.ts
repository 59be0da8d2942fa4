import { classArrayFromBytes } from '../lib/class-array.ts';
import { analyzeRun, DEFAULT_TIE_RULE, type RunSummary, type TieRule } from '../lib/analysis/index.ts';
import { DEFAULT_ALPHA } from '../lib/analysis/classes.ts';
import { sha256Hex } from '../lib/hash.ts';
import { reanalyzeExtras } from './robustness.ts';
import { classBytesOf, parseManifest, RUN_FILES, type Manifest } from '../lib/manifest.ts';
import { getText, type Store } from '../lib/store.ts';

export class ReanalyzeError extends Error {}

export interface ReanalyzeOptions {
  /** Default: the run's own setting, else 'largest'. */
  tieRule?: TieRule;
  /** Default: the run's own setting, else 0.05. */
  alpha?: number;
}

/**
 * Analyses a finished run again from its stored predictions and labels (each checked against the
 * manifest's SHA-256), with other analysis settings: no model is trained or evaluated. Writes as
 * finishRun does — analysis.json first, then the manifest that lists its new size and hash and
 * carries the new metrics and settings; `latest` is left alone. Analysis settings are not part
 * of the run id (see defaultRunId), so the run keeps its name.
 */
export async function reanalyzeRun(store: Store, runId: string, opts: ReanalyzeOptions = {}): Promise<{ manifest: Manifest; summary: RunSummary }> {
  const text = await getText(store, `${runId}/${RUN_FILES.manifest}`);
  if (!text) throw new ReanalyzeError(`run '${runId}' has no manifest: only a finished run can be analysed again`);
  const manifest = parseManifest(text);
  const read = async (path: string) => {
    const entry = manifest.files.find((f) => f.path === path);
    const bytes = await store.get(`${runId}/${path}`);
    if (!entry || !bytes) throw new ReanalyzeError(`run '${runId}': ${path} is missing`);
    if (bytes.length !== entry.bytes || (await sha256Hex(bytes)) !== entry.sha256) {
      throw new ReanalyzeError(`run '${runId}': ${path} does not match its manifest (size or SHA-256)`);
    }
    return bytes;
  };
  // 1 or 2 bytes per class index, as the manifest says (runs of more than 256 classes use 2).
  const classBytes = classBytesOf(manifest);
  const predictions = classArrayFromBytes(await read(RUN_FILES.predictions), classBytes, 'predictions');
  const labels = classArrayFromBytes(await read(RUN_FILES.evalLabels), classBytes, 'labels');
  const settings = manifest.settings as { tieRule?: TieRule; alpha?: number };
  const tieRule = opts.tieRule ?? settings.tieRule ?? DEFAULT_TIE_RULE;
  const alpha = opts.alpha ?? settings.alpha ?? DEFAULT_ALPHA;
  const { summary } = analyzeRun({
    predictions, labels, numClasses: manifest.dataset.numClasses, levelNames: manifest.levels.map((l) => l.name), K: manifest.K, tieRule, alpha,
  });

  const bytes = new TextEncoder().encode(JSON.stringify(summary));
  await store.put(`${runId}/${RUN_FILES.analysis}`, bytes);
  const entry = { bytes: bytes.length, sha256: await sha256Hex(bytes) };
  // The robustness and subgroup analyses use the same settings: redone too, their entries replaced.
  const redone = await reanalyzeExtras(store, manifest, read, { predictions, labels, tieRule, alpha });
  const updated: Manifest = {
    ...manifest,
    settings: { ...manifest.settings, tieRule, alpha },
    metrics: {
      ...manifest.metrics,
      levels: summary.levels.map((l) => ({
        name: l.name, accuracy: l.accuracy, pieCount: l.pieCount, impacted: l.impacted, constantDiffering: l.constantDiffering, pieAccuracy: l.pieAccuracy,
      })),
    },
    files: manifest.files.map((f) => (f.path === RUN_FILES.analysis ? { ...f, ...entry } : redone.get(f.path) ?? f)),
  };
  const out = JSON.stringify(updated, null, 1);
  parseManifest(out); // validate what we write
  await store.put(`${runId}/${RUN_FILES.manifest}`, out);
  return { manifest: updated, summary };
}
