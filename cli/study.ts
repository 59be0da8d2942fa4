/** `pie label-studio config` and `pie study`: the paper's human study on a run of the store. */
import { readFile, writeFile } from 'node:fs/promises';
import { latestRunId, type Store } from '../lib/store.ts';
import { formatStudyTable } from '../lib/study/tally.ts';
import { ApiError } from '../api/errors.ts';
import { RunRepository } from '../api/runs.ts';
import { studyPlan, tallyExport } from '../api/study.ts';
import { ConfigError } from '../trainer/config.ts';
import { describeStore } from '../node/stores.ts';

async function loadRun(store: Store, run?: string) {
  const id = run ?? (await latestRunId(store));
  if (!id) throw new ConfigError(`no finished run in ${describeStore(store)}: run 'pie run' first`);
  try {
    return await new RunRepository(store).get(id);
  } catch (err) {
    if (err instanceof ApiError) throw new ConfigError(err.message);
    throw err;
  }
}

/** The API's own errors (a bad level, a bad export) as CLI errors: message only, exit status 2. */
async function asConfigError<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof ApiError) throw new ConfigError(err.message);
    throw err;
  }
}

export interface StudyConfigFlags { run?: string; level: string; seed: number; maxPies?: number; url: string; tasks: string; inline?: boolean }

/** Prints the labeling config; writes the tasks (Label Studio import JSON) to a file. */
export async function labelStudioConfig(store: Store, flags: StudyConfigFlags): Promise<void> {
  const run = await loadRun(store, flags.run);
  const plan = await asConfigError(() => studyPlan(run, { level: flags.level, seed: flags.seed, maxPies: flags.maxPies, baseUrl: flags.url, inline: flags.inline }));
  await writeFile(flags.tasks, `${JSON.stringify(plan.tasks, null, 2)}\n`);
  console.log(plan.labelConfig);
  console.error(`\n${plan.tasks.length} tasks (${plan.pies} PIEs at ${plan.level} of run ${plan.runId}, ${plan.nonPies} random non-PIEs, seed ${plan.seed}; ` +
    `which is which is not in the tasks) written to ${flags.tasks}. In Label Studio: paste the config above into the project's labeling interface, ` +
    `import ${flags.tasks}, and connect this API's /ml to pre-label the class; ${flags.inline ? 'images are in the tasks' : `images load from ${flags.url} (with API keys set, use --inline)`}.`);
}

export interface StudyFlags { run?: string; export: string; json?: boolean }

export async function studyTable(store: Store, flags: StudyFlags): Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(flags.export, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read the export ${flags.export}: ${(err as Error).message}`);
  }
  const first = Array.isArray(json) ? json.find((t) => typeof t?.data?.pie_study === 'string') : undefined;
  // The run the study was made from, unless told otherwise.
  const run = await loadRun(store, flags.run ?? (first ? String(first.data.pie_study).split('/')[0] : undefined));
  const result = await asConfigError(() => tallyExport(run, json));
  if (flags.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  console.log(`Study of run ${result.runId} at ${result.level}: ${result.pies} PIEs, ${result.nonPies} non-PIEs, ${result.annotations} annotations` +
    `${result.skippedTasks ? ` (${result.skippedTasks} tasks without a study reference left out)` : ''}\n`);
  console.log(formatStudyTable(result));
}
