import type { RobustnessSummary, SubgroupSummary } from '../lib/analysis/index.ts';
import { parseAttributesCsv } from '../lib/attributes.ts';
import { type ClassArray, classArrayFromBytes } from '../lib/class-array.ts';
import { corrupt, CORRUPTIONS } from '../lib/corrupt/index.ts';
import { classBytesOf, inputShapeOf } from '../lib/manifest.ts';
import { corruptionSeed, ROBUSTNESS_FILES } from '../lib/robustness-run.ts';
import { BadInput, CorruptRun, NotFound } from './errors.ts';
import type { LoadedRun } from './runs.ts';

// A run's corrupted test sets and attributes, read on first use and kept with the loaded run
// (a WeakMap: they go when the run cache drops the run).

interface Extras {
  robustness?: Promise<RobustnessSummary>;
  subgroups?: Promise<SubgroupSummary>;
  attributes?: Promise<{ columns: string[]; values: string[][] }>;
  predictions: Map<string, Promise<ClassArray>>;
}
const extras = new WeakMap<LoadedRun, Extras>();
const of = (run: LoadedRun): Extras => extras.get(run) ?? extras.set(run, { predictions: new Map() }).get(run)!;

const json = async <T>(run: LoadedRun, path: string): Promise<T> => JSON.parse(new TextDecoder().decode(await run.readFile(path))) as T;

export function robustnessOf(run: LoadedRun): Promise<RobustnessSummary> {
  if (!run.manifest.robustness) throw new NotFound(`run ${run.runId} has no corrupted test sets (make it with pie run --corruptions)`);
  const e = of(run);
  return (e.robustness ??= json<RobustnessSummary>(run, ROBUSTNESS_FILES.analysis));
}

export function subgroupsOf(run: LoadedRun): Promise<SubgroupSummary> {
  if (!run.manifest.subgroups) throw new NotFound(`run ${run.runId} has no attributes (make it with pie run --attributes FILE.csv)`);
  const e = of(run);
  return (e.subgroups ??= json<SubgroupSummary>(run, ROBUSTNESS_FILES.subgroups));
}

/** The corrupted sets a run evaluated, by key; a key it has not → 400 naming those it has. */
export function evaluatedSet(run: LoadedRun, key: string) {
  const sets = run.manifest.robustness?.sets ?? [];
  const set = sets.find((s) => s.key === key);
  if (!set) {
    throw new BadInput(sets.length
      ? `run ${run.runId} has no predictions under corruption '${key}'; it has ${sets.map((s) => s.key).join(', ')}`
      : `run ${run.runId} has no corrupted test sets (make it with pie run --corruptions)`, 'bad_corruption');
  }
  return set;
}

/** [levels × K × N] predictions on a corrupted set, in the run's class width. */
export function corruptedPredictions(run: LoadedRun, key: string): Promise<ClassArray> {
  const set = evaluatedSet(run, key);
  const e = of(run);
  let p = e.predictions.get(key);
  if (!p) {
    p = run.readFile(set.path).then((bytes) => {
      const a = classArrayFromBytes(bytes, classBytesOf(run.manifest), set.path);
      if (a.length !== run.levels * run.K * run.N) throw new CorruptRun(`run ${run.runId}: ${set.path} holds ${a.length} predictions, not levels × K × N = ${run.levels * run.K * run.N}`);
      return a;
    });
    p.catch(() => e.predictions.delete(key));
    e.predictions.set(key, p);
  }
  return p;
}

/** name-severity of any corruption lib/corrupt knows (e.g. motion_blur-3), or 400 naming the valid ones. */
export function parseCorruptionParam(key: string): { name: string; severity: number } {
  const m = /^(.+)-(\d+)$/.exec(key);
  const def = m && CORRUPTIONS.find((c) => c.name === m[1]);
  const severity = m ? Number(m[2]) : NaN;
  if (!def || severity < 1 || severity > def.severities) {
    throw new BadInput(`corruption '${key}' is not name-severity of a known corruption; valid: ${CORRUPTIONS.map((c) => `${c.name}-1…${c.severities}`).join(', ')}`, 'bad_corruption');
  }
  return { name: def.name, severity };
}

/** Evaluation image i under a corruption, recomputed from the stored image with the run's per-image seed. */
export async function corruptedImage(run: LoadedRun, i: number, key: string): Promise<Uint8Array> {
  const { name, severity } = parseCorruptionParam(key);
  const [height, width, channels] = inputShapeOf(run.manifest);
  const base = run.manifest.robustness?.seed ?? Number(run.manifest.settings.seed ?? 1);
  return corrupt({ data: await run.image(i), height, width, channels }, name, severity, corruptionSeed(base, `${name}-${severity}`, i)).data;
}

/** The run's attribute columns, values[column][image]. */
export function attributesOf(run: LoadedRun): Promise<{ columns: string[]; values: string[][] }> {
  if (!run.manifest.subgroups) throw new BadInput(`run ${run.runId} has no attributes, so no subgroups to filter by (make it with pie run --attributes FILE.csv)`, 'no_subgroups');
  const e = of(run);
  return (e.attributes ??= run.readFile(run.manifest.subgroups.attributes).then((bytes) => {
    const attrs = parseAttributesCsv(new TextDecoder().decode(bytes), run.N);
    return { columns: attrs.map((a) => a.name), values: attrs.map((a) => a.values) };
  }));
}

/**
 * A test of image membership for a subgroup key ('hair=blond' or 'hair=blond&gender=male'), or
 * 400 naming the run's attributes when a column or value does not exist.
 */
export async function subgroupFilter(run: LoadedRun, key: string): Promise<(i: number) => boolean> {
  const { columns, values } = await attributesOf(run);
  const parts = key.split('&').map((p) => {
    const eq = p.indexOf('=');
    const col = eq < 0 ? -1 : columns.indexOf(p.slice(0, eq));
    const value = p.slice(eq + 1);
    if (col < 0 || !values[col].includes(value)) {
      const known = columns.map((c, j) => `${c}=${[...new Set(values[j])].sort().join('|')}`).join(', ');
      throw new BadInput(`subgroup '${key}' is not attribute=value (or two joined by &) of run ${run.runId}; its attributes: ${known}`, 'bad_subgroup');
    }
    return { col, value };
  });
  return (i) => parts.every(({ col, value }) => values[col][i] === value);
}
