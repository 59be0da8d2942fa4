import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { analyzeRobustness, analyzeSubgroups, type RobustnessSummary, type SubgroupSummary } from '../lib/analysis/index.ts';
import { AttributesError, attributesToCsv, parseAttributesCsv } from '../lib/attributes.ts';
import { type ClassArray, classArrayFromBytes, classArrayToBytes, classBytesFor, newClassArray } from '../lib/class-array.ts';
import { corrupt, CORRUPTIONS } from '../lib/corrupt/index.ts';
import { sha256Hex } from '../lib/hash.ts';
import { classBytesOf, type FileEntry, type Manifest } from '../lib/manifest.ts';
import type { TieRule } from '../lib/analysis/modal.ts';
import type { Store } from '../lib/store.ts';
import { PIXEL_SCALE } from '../lib/model/types.ts';
import { corruptionSeed, ROBUSTNESS_FILES, setKey } from '../lib/robustness-run.ts';
import type { EvaluateSummary, RunContext } from './pipeline.ts';
import { WorkerPool, shareFloat32 } from './pool.ts';
import type { WorkerMessage } from './worker.ts';

export { AttributesError };

/** What `finishRun` adds to a run: the files written here and the manifest's blocks. */
export interface RunExtras {
  files: FileEntry[];
  robustness?: Manifest['robustness'];
  subgroups?: Manifest['subgroups'];
  /** For the report. */
  robustnessSummary?: RobustnessSummary;
  subgroupSummary?: SubgroupSummary;
}

/** The corrupted sets a config asks for, [name, severity] in order; checked against the suite. */
export function corruptionSets(ctx: RunContext): { key: string; corruption: string; severity: number }[] {
  const { corruptions, severities } = ctx.cfg;
  const out = [];
  for (const name of corruptions) {
    const def = CORRUPTIONS.find((c) => c.name === name);
    if (!def) throw new AttributesError(`unknown corruption '${name}' (known: ${CORRUPTIONS.map((c) => c.name).join(', ')})`);
    for (const s of severities) {
      if (s < 1 || s > def.severities) throw new AttributesError(`corruption ${name} has severities 1…${def.severities}, not ${s}`);
      out.push({ key: setKey(name, s), corruption: name, severity: s });
    }
  }
  return out;
}

const key = (ctx: RunContext, path: string) => `${ctx.runId}/${path}`;

/** A set is finished when its prediction file and its record (size + SHA-256, written after it) agree. */
async function finishedSet(ctx: RunContext, path: string, expectedBytes: number): Promise<Uint8Array | null> {
  const record = await ctx.store.get(key(ctx, `${path}.sha256`));
  if (!record) return null;
  const bytes = await ctx.store.get(key(ctx, path));
  if (!bytes || bytes.length !== expectedBytes || new TextDecoder().decode(record).trim() !== (await sha256Hex(bytes))) return null;
  return bytes;
}

/** The test images under one corruption, uint8 [N × h × w × c], each with its own seed. */
export function corruptTestImages(ctx: RunContext, name: string, severity: number): Uint8Array {
  const { rows: height, cols: width, channels } = ctx.data;
  const px = height * width * channels;
  const src = ctx.data.test.images;
  const out = new Uint8Array(src.length);
  const k = setKey(name, severity);
  for (let i = 0; i < ctx.data.test.n; i++) {
    const img = corrupt({ data: src.subarray(i * px, (i + 1) * px), height, width, channels }, name, severity, corruptionSeed(ctx.cfg.seed, k, i));
    out.set(img.data, i * px);
  }
  return out;
}

export interface CorruptionEvaluation {
  sets: { key: string; corruption: string; severity: number; path: string; predictions: ClassArray; skipped: boolean }[];
  corruptSeconds: number;
  evaluateSeconds: number;
}

/**
 * Every member of every level on every corrupted test set, with the lib/ kernels in the worker
 * pool as clean evaluation: predictions [levels × K × N] per set, each its own file. A resumed
 * run reuses the sets already finished.
 */
export async function evaluateCorruptions(ctx: RunContext, ev: EvaluateSummary): Promise<CorruptionEvaluation> {
  const sets = corruptionSets(ctx);
  const result: CorruptionEvaluation = { sets: [], corruptSeconds: 0, evaluateSeconds: 0 };
  if (!sets.length) return result;
  const { K } = ctx.cfg;
  const N = ctx.data.test.n;
  const classBytes = classBytesFor(ctx.data.numClasses);
  const size = ctx.levels.length * K * N;
  const todo: typeof sets = [];
  for (const s of sets) {
    const path = ROBUSTNESS_FILES.predictions(s.key);
    const bytes = await finishedSet(ctx, path, size * classBytes);
    if (bytes) result.sets.push({ ...s, path, predictions: classArrayFromBytes(bytes, classBytes, path), skipped: true });
    else todo.push(s);
  }
  if (result.sets.length) ctx.progress.log(`corruptions: ${result.sets.length} set(s) already finished, skipped`);
  if (!todo.length) return order(result, sets);

  const models = await Promise.all(ev.records.map((row) => Promise.all(row.map(async (r) => {
    const bytes = await ctx.store.get(key(ctx, r.model.path));
    if (!bytes || (await sha256Hex(bytes)) !== r.model.sha256) throw new Error(`model ${r.model.path} of run ${ctx.runId} is missing or damaged`);
    return bytes;
  }))));
  const pool = new WorkerPool(Math.min(ctx.cfg.workers, ctx.levels.length * K), { engine: ctx.cfg.engine });
  const phase = ctx.progress.phase('corruptions', todo.length * ctx.levels.length * K, 'models');
  try {
    for (const s of todo) {
      let t0 = performance.now();
      const images = corruptTestImages(ctx, s.corruption, s.severity);
      // Preprocessed as the clean test set is (sharedData in pipeline.ts): × PIXEL_SCALE, float32.
      const shared = shareFloat32(images, PIXEL_SCALE);
      result.corruptSeconds += (performance.now() - t0) / 1000;
      t0 = performance.now();
      const predictions = newClassArray(size, classBytes);
      await Promise.all(models.flatMap((row, t) => row.map(async (model, m) => {
        const msg = await pool.run({ type: 'evaluate', model, images: shared, n: N }) as Extract<WorkerMessage, { type: 'evaluated' }>;
        predictions.set(msg.predictions, (t * K + m) * N);
        phase.tick(1);
      })));
      result.evaluateSeconds += (performance.now() - t0) / 1000;
      const path = ROBUSTNESS_FILES.predictions(s.key);
      const bytes = classArrayToBytes(predictions);
      await ctx.store.put(key(ctx, path), bytes);
      // The record goes last: its presence means the prediction file is whole.
      await ctx.store.put(key(ctx, `${path}.sha256`), `${await sha256Hex(bytes)}\n`);
      result.sets.push({ ...s, path, predictions, skipped: false });
    }
  } finally {
    await pool.close();
  }
  phase.done(`${todo.length} corrupted set(s): corrupting ${result.corruptSeconds.toFixed(1)} s, evaluating ${result.evaluateSeconds.toFixed(1)} s`);
  return order(result, sets);
}

function order(r: CorruptionEvaluation, sets: { key: string }[]): CorruptionEvaluation {
  r.sets.sort((a, b) => sets.findIndex((s) => s.key === a.key) - sets.findIndex((s) => s.key === b.key));
  return r;
}

/** The attribute file of a run, checked against its test images (indices, or paths for image folders). */
export function readAttributes(ctx: RunContext): { text: Uint8Array; attributes: ReturnType<typeof parseAttributesCsv> } | null {
  const file = ctx.cfg.attributes;
  if (!file) return null;
  let text: Uint8Array;
  try {
    text = readFileSync(file);
  } catch (err) {
    throw new AttributesError(`attributes file ${file}: ${(err as Error).message}`);
  }
  try {
    return { text, attributes: parseAttributesCsv(new TextDecoder().decode(text), ctx.data.test.n, ctx.data.test.paths) };
  } catch (err) {
    if (err instanceof AttributesError) throw new AttributesError(`${file}: ${err.message}`);
    throw err;
  }
}

/** Checks the corruption list and the attributes file against the run, without evaluating anything. */
export function checkRobustnessInputs(ctx: RunContext): void {
  corruptionSets(ctx);
  readAttributes(ctx);
}

/** Corruption evaluation, both analyses and their files: what finishRun adds to the manifest. */
export async function robustnessExtras(ctx: RunContext, ev: EvaluateSummary, labels: ClassArray): Promise<RunExtras> {
  const attrs = readAttributes(ctx); // before the long part: a bad file fails fast
  const corr = await evaluateCorruptions(ctx, ev);
  const extras: RunExtras = { files: [] };
  const put = async (path: string, bytes: Uint8Array, kind: FileEntry['kind']) => {
    await ctx.store.put(key(ctx, path), bytes);
    extras.files.push({ path, bytes: bytes.length, sha256: await sha256Hex(bytes), kind });
  };
  const common = {
    labels, numClasses: ctx.data.numClasses, levelNames: ctx.levels.map((l) => l.name), K: ctx.cfg.K,
    tieRule: ctx.cfg.tieRule, alpha: ctx.cfg.alpha,
  };
  if (corr.sets.length) {
    for (const s of corr.sets) {
      const bytes = classArrayToBytes(s.predictions);
      extras.files.push({ path: s.path, bytes: bytes.length, sha256: await sha256Hex(bytes), kind: 'corrupted-predictions' });
    }
    const { summary } = analyzeRobustness({
      ...common, clean: ev.predictions, corrupted: corr.sets.map((s) => ({ name: s.corruption, severity: s.severity, predictions: s.predictions })),
    });
    await put(ROBUSTNESS_FILES.analysis, new TextEncoder().encode(JSON.stringify(summary)), 'analysis');
    extras.robustness = { seed: ctx.cfg.seed, sets: corr.sets.map((s) => ({ key: s.key, corruption: s.corruption, severity: s.severity, path: s.path })) };
    extras.robustnessSummary = summary;
  }
  if (attrs) {
    // Stored in test-image order, one row per image, whatever order the given file had.
    await put(ROBUSTNESS_FILES.attributes, new TextEncoder().encode(attributesToCsv(attrs.attributes)), 'attributes');
    const summary = analyzeSubgroups({ ...common, predictions: ev.predictions, attributes: attrs.attributes });
    await put(ROBUSTNESS_FILES.subgroups, new TextEncoder().encode(JSON.stringify(summary)), 'analysis');
    extras.subgroups = {
      attributes: ROBUSTNESS_FILES.attributes, columns: attrs.attributes.map((a) => a.name),
      source: { file: basename(ctx.cfg.attributes!), sha256: await sha256Hex(attrs.text) },
    };
    extras.subgroupSummary = summary;
  }
  return extras;
}

/**
 * `pie analyze`: the robustness and subgroup analyses of a finished run again, from its stored
 * (hash-checked) corrupted predictions and attributes, with the run's new analysis settings.
 * Writes the analysis files and returns their new manifest entries by path.
 */
export async function reanalyzeExtras(
  store: Store, manifest: Manifest, read: (path: string) => Promise<Uint8Array>,
  run: { predictions: ClassArray; labels: ClassArray; tieRule: TieRule; alpha: number },
): Promise<Map<string, FileEntry>> {
  const out = new Map<string, FileEntry>();
  const classBytes = classBytesOf(manifest);
  const common = { labels: run.labels, numClasses: manifest.dataset.numClasses, levelNames: manifest.levels.map((l) => l.name), K: manifest.K, tieRule: run.tieRule, alpha: run.alpha };
  const write = async (path: string, summary: unknown) => {
    const bytes = new TextEncoder().encode(JSON.stringify(summary));
    await store.put(`${manifest.runId}/${path}`, bytes);
    out.set(path, { path, bytes: bytes.length, sha256: await sha256Hex(bytes), kind: 'analysis' });
  };
  if (manifest.robustness) {
    const corrupted = await Promise.all(manifest.robustness.sets.map(async (s) => ({
      name: s.corruption, severity: s.severity, predictions: classArrayFromBytes(await read(s.path), classBytes, s.path),
    })));
    await write(ROBUSTNESS_FILES.analysis, analyzeRobustness({ ...common, clean: run.predictions, corrupted }).summary);
  }
  if (manifest.subgroups) {
    const attributes = parseAttributesCsv(new TextDecoder().decode(await read(manifest.subgroups.attributes)), manifest.dataset.testSize);
    await write(ROBUSTNESS_FILES.subgroups, analyzeSubgroups({ ...common, predictions: run.predictions, attributes }));
  }
  return out;
}
