import { parseManifest, RUN_FILES } from '../lib/manifest.ts';
import { getText, latestRunId, type DeletableStore, type Store } from '../lib/store.ts';

export interface RunInfo {
  runId: string;
  /** From the manifest; null for a partial run (being trained, or a publish that did not finish). */
  createdAt: string | null;
  objects: number;
  bytes: number;
  /** The run `latest` names. */
  latest: boolean;
}

/** Every run in a store: finished ones newest first (by the manifest's createdAt), then partial ones. */
export async function listRuns(store: Store): Promise<RunInfo[]> {
  const [objects, latest] = await Promise.all([store.list(''), latestRunId(store)]);
  const byRun = new Map<string, { objects: number; bytes: number; manifest: boolean }>();
  for (const o of objects) {
    const slash = o.key.indexOf('/');
    if (slash < 0) continue; // `latest` and other top-level keys are not runs
    const runId = o.key.slice(0, slash);
    const run = byRun.get(runId) ?? { objects: 0, bytes: 0, manifest: false };
    run.objects++;
    run.bytes += o.size;
    if (o.key === `${runId}/${RUN_FILES.manifest}`) run.manifest = true;
    byRun.set(runId, run);
  }
  const runs = await Promise.all([...byRun].map(async ([runId, r]): Promise<RunInfo> => {
    let createdAt: string | null = null;
    if (r.manifest) {
      try {
        createdAt = parseManifest((await getText(store, `${runId}/${RUN_FILES.manifest}`)) ?? '').createdAt;
      } catch { /* an unreadable manifest: listed as partial, never pruned */ }
    }
    return { runId, createdAt, objects: r.objects, bytes: r.bytes, latest: runId === latest };
  }));
  return runs.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || a.runId.localeCompare(b.runId));
}

export interface PrunePlan {
  keep: RunInfo[];
  remove: RunInfo[];
}

/**
 * Keeps the `keep` newest finished runs and, whatever its age, the one `latest` names; removes
 * the other finished runs. Partial runs are left alone: they may be training right now, or be a
 * publish that a re-run will complete.
 */
export function planPrune(runs: RunInfo[], keep: number): PrunePlan {
  if (!Number.isInteger(keep) || keep < 0) throw new Error(`--keep must be a whole number ≥ 0, got ${keep}`);
  const plan: PrunePlan = { keep: [], remove: [] };
  let kept = 0;
  for (const run of runs) {
    if (run.createdAt === null || run.latest) plan.keep.push(run);
    else if (kept < keep) { plan.keep.push(run); kept++; }
    else plan.remove.push(run);
  }
  return plan;
}

/**
 * Deletes what `planPrune` says, each run's manifest first so that no reader ever finds a
 * manifest whose files are gone. Checks `latest` again before each run, in case a publish moved it.
 */
export async function pruneRuns(store: DeletableStore, keep: number, opts: { dryRun?: boolean; log?: (line: string) => void } = {}): Promise<PrunePlan> {
  const log = opts.log ?? (() => {});
  const plan = planPrune(await listRuns(store), keep);
  const done: PrunePlan = { keep: [...plan.keep], remove: [] };
  for (const run of plan.remove) {
    if (opts.dryRun) {
      log(`would delete ${run.runId} (${run.objects} objects, created ${run.createdAt})`);
      done.remove.push(run);
      continue;
    }
    if ((await latestRunId(store)) === run.runId) {
      log(`kept ${run.runId}: it became latest meanwhile`);
      done.keep.push({ ...run, latest: true });
      continue;
    }
    const manifestKey = `${run.runId}/${RUN_FILES.manifest}`;
    const keys = (await store.list(`${run.runId}/`)).map((o) => o.key);
    await store.delete([manifestKey]);
    await store.delete(keys.filter((k) => k !== manifestKey));
    log(`deleted ${run.runId} (${keys.length} objects, created ${run.createdAt})`);
    done.remove.push(run);
  }
  return done;
}
