/**
 * The human study over a loaded run: the tasks to import into Label Studio, and the table from
 * its export (lib/study does the work; this checks the export against the run).
 */
import { sampleStudy, studyLabelConfig, studyTasks } from '../lib/study/design.ts';
import { parseStudyExport, studyRecords, StudyExportError } from '../lib/study/export.ts';
import { tallyStudy, type StudyTable, type TallyOptions } from '../lib/study/tally.ts';
import { BadInput } from './errors.ts';
import type { LoadedRun } from './runs.ts';
import { datasetPng } from './routes/images.ts';

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export interface StudyPlanOptions {
  level: string;
  seed: number;
  /** At most this many PIEs (and as many non-PIEs). */
  maxPies?: number;
  /** Where the API is reached from Label Studio, e.g. https://pie.example (task image URLs). */
  baseUrl: string;
  /**
   * Put each image in its task as a data: URL instead: annotators' browsers load task images
   * without credentials, so with PIE_API_KEYS set (and reads not public) the URLs would not load.
   */
  inline?: boolean;
}

export async function studyPlan(run: LoadedRun, o: StudyPlanOptions) {
  const t = run.levelIndex(o.level);
  if (t === 0) throw new BadInput(`level '${o.level}' is the dense baseline: it has no PIEs; choose a compressed level`);
  const sample = sampleStudy(run.isPie.subarray(t * run.N, (t + 1) * run.N), { seed: o.seed, maxPies: o.maxPies, level: o.level });
  const base = o.baseUrl.replace(/\/+$/, '');
  // Images are read one at a time (by range), so the inline data: URLs are made before the tasks.
  const inline = new Map<number, string>();
  if (o.inline) for (const i of sample.indices) inline.set(i, `data:image/png;base64,${base64(await datasetPng(run, i))}`);
  const tasks = studyTasks(sample, { run: run.runId, level: o.level }, (i) => (o.inline
    ? inline.get(i)!
    : `${base}/v1/runs/${encodeURIComponent(run.runId)}/images/${i}/image.png`));
  return { runId: run.runId, level: o.level, seed: o.seed, pies: sample.pies, nonPies: sample.nonPies, labelConfig: studyLabelConfig(run.manifest.dataset.classNames), tasks };
}

export interface StudyResult extends StudyTable { runId: string; level: string; skippedTasks: number }

/** Tallies a Label Studio JSON export of a study made from this run. Throws BadInput naming what does not fit. */
export function tallyExport(run: LoadedRun, json: unknown, opts: TallyOptions = {}): StudyResult {
  let parsed: ReturnType<typeof parseStudyExport>;
  try {
    parsed = parseStudyExport(json);
  } catch (err) {
    if (err instanceof StudyExportError) throw new BadInput(err.message, 'bad_study_export', { cause: err });
    throw err;
  }
  const runs = new Set(parsed.tasks.map((t) => t.ref.run)), levels = new Set(parsed.tasks.map((t) => t.ref.level));
  if (runs.size !== 1 || !runs.has(run.runId)) {
    throw new BadInput(`the export's study tasks come from run(s) ${[...runs].join(', ')}, not ${run.runId}: tally it against that run`, 'bad_study_export');
  }
  if (levels.size !== 1) throw new BadInput(`the export mixes levels ${[...levels].join(', ')}: one study is one level`, 'bad_study_export');
  const [level] = levels;
  const t = run.levelIndex(level);
  const bad = parsed.tasks.find((x) => x.ref.index >= run.N);
  if (bad) throw new BadInput(`task ${String(bad.id)}: run ${run.runId} has no image ${bad.ref.index}`, 'bad_study_export');
  const names = run.manifest.dataset.classNames;
  const records = studyRecords(parsed.tasks, {
    isPie: (_l, i) => run.isPie[t * run.N + i] === 1,
    trueClass: (i) => run.labels[i],
    classIndex: (name) => { const c = names.indexOf(name); return c >= 0 ? c : null; },
  });
  return { runId: run.runId, level, skippedTasks: parsed.skipped, ...tallyStudy(records, opts) };
}
