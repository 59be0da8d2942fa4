/**
 * Live predictions spread over level hosts. A run whose models are larger than one predictor
 * budget (the paper's: 330 models, more than an isolate's 128 MB) is split into groups of whole
 * levels that each fit the budget; each group is predicted by a level host — an invocation of
 * the LevelHost entrypoint (api/worker.ts) through a service binding — and the front merges the
 * member predictions into one answer, exactly as if predicted in one place. The upload is
 * decoded and preprocessed once, by the front; hosts get the model input.
 *
 * A level always belongs to the same group and a group to the same host, whatever levels a
 * request asks for, so a host that runs in an isolate of its own keeps its group loaded and
 * repeated predictions read nothing from R2 again. A host reached through a binding to the
 * front Worker itself runs in the front's isolate: the groups then take turns in its one
 * budget, as without hosts.
 *
 * The hosts are RPC methods, not HTTP routes: a public request reaches only the default
 * entrypoint, and only Workers of the same account with a binding to this one can call them.
 * A host still checks every call as untrusted input and answers errors as data.
 */
import { type ClassArray, classBytesFor, newClassArray } from '../lib/class-array.ts';
import { inputShapeOf } from '../lib/manifest.ts';
import { liveMemberPredictions } from './answer.ts';
import type { PredictMembers } from './context.ts';
import { ApiError, BadInput, toApiError } from './errors.ts';
import { assertFitsBudget } from './predictor-cache.ts';
import type { LoadedRun, RunRepository } from './runs.ts';

/** What the front sends a host: which run (its id and manifest ETag, so both predict the same run), which levels, and the model input. */
export interface LevelHostCall {
  runId: string;
  etag: string;
  levels: string[];
  /** The preprocessed upload, [height × width × channels] as the run's input shape, values /255. */
  input: Float32Array;
}

/** What one host invocation held and did: the per-invocation memory. */
export interface LevelHostFigures {
  /** The binding the front called it through. */
  host: string;
  /** A random id of the isolate that answered: equal ids, one isolate. */
  isolate: string;
  levels: string[];
  /** Levels of this call that were not held before it, so were read from the store. */
  loaded: string[];
  /** What the isolate's predictor cache holds after the call: levels (`run/level`) and bytes. */
  heldLevels: string[];
  heldBytes: number;
  budgetBytes: number;
  /** The isolate's WebAssembly memory (model weights and scratch; it grows, never shrinks). */
  wasmMemoryBytes: number;
}

export type LevelHostReply =
  | { predictions: Uint8Array | Uint16Array; figures: Omit<LevelHostFigures, 'host'> }
  | { error: { status: number; code: string; message: string } };

/** A level host as the front calls it: the RPC stub of a service binding to the LevelHost entrypoint. */
export interface LevelHostStub {
  predict(call: LevelHostCall): Promise<LevelHostReply>;
}

export interface LevelHostBinding { name: string; stub: LevelHostStub }

/** What the host's isolate reports about itself. */
export interface HostIsolate {
  id: string;
  repo: RunRepository;
  wasmMemoryBytes(): number;
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** Largest model input accepted from a front: 4096 values per side would be far past any run's input. */
const MAX_INPUT = 1 << 22;

/** A host's own check of a call: the shape of every field, before anything is loaded. */
function checkCall(call: unknown): LevelHostCall {
  const c = call as Partial<LevelHostCall> | null;
  if (typeof c !== 'object' || c === null) throw new BadInput('level host call: expected an object');
  if (typeof c.runId !== 'string' || !RUN_ID.test(c.runId) || c.runId === 'latest') throw new BadInput('level host call: runId must be a run id (not latest)');
  if (typeof c.etag !== 'string' || c.etag.length > 100) throw new BadInput("level host call: etag must be the run's ETag");
  if (!Array.isArray(c.levels) || c.levels.length === 0 || c.levels.length > 256 || !c.levels.every((l) => typeof l === 'string' && l.length <= 100) ||
    new Set(c.levels).size !== c.levels.length) {
    throw new BadInput('level host call: levels must be 1…256 distinct level names');
  }
  if (!(c.input instanceof Float32Array) || c.input.length > MAX_INPUT || !c.input.every(Number.isFinite)) {
    throw new BadInput('level host call: input must be a Float32Array of finite values');
  }
  return c as LevelHostCall;
}

/**
 * The host side: predicts every member of the levels asked for on the front's input, in this
 * isolate's predictor cache. Errors come back as data (status, code, message), so the front
 * can answer with the host's own 4xx.
 */
export async function answerLevelHostCall(isolate: HostIsolate, call: unknown): Promise<LevelHostReply> {
  try {
    const c = checkCall(call);
    const run = await isolate.repo.get(c.runId);
    if (run.etag !== c.etag) throw new ApiError(409, 'run_mismatch', `run ${run.runId} has ETag ${run.etag} here, not ${c.etag.slice(0, 40)}`);
    const [h, w, ch] = inputShapeOf(run.manifest);
    if (c.input.length !== h * w * ch) throw new BadInput(`level host call: input has ${c.input.length} values; run ${run.runId} takes ${h}×${w}×${ch}`);
    const levels = c.levels.map((name) => run.levelIndex(name));
    const cache = isolate.repo.predictors;
    const loaded = levels.filter((t) => !cache.has(run.levelKey(t))).map((t) => run.manifest.levels[t].name);
    const all = await liveMemberPredictions(run, c.input, levels);
    const { K } = run;
    const predictions = newClassArray(levels.length * K, classBytesFor(run.numClasses));
    levels.forEach((t, j) => predictions.set(all.subarray(t * K, (t + 1) * K), j * K));
    return {
      predictions,
      figures: {
        isolate: isolate.id, levels: c.levels, loaded, heldLevels: cache.held(), heldBytes: cache.usedBytes, budgetBytes: cache.budgetBytes,
        wasmMemoryBytes: isolate.wasmMemoryBytes(),
      },
    };
  } catch (err) {
    const e = toApiError(err);
    if (e.status >= 500) console.error(err);
    return { error: { status: e.status, code: e.code, message: e.message } };
  }
}

/**
 * Groups of whole levels whose model files fit `budgetBytes` each: first-fit decreasing over all
 * the run's levels (largest first, ties in level order), numbered by their first level, so that
 * dense's group is 0. `groupOf[t]` is −1 for a level larger than the budget by itself.
 */
export function planLevelGroups(levelBytes: readonly number[], budgetBytes: number): { groupOf: number[]; groups: number } {
  const order = levelBytes.map((_, t) => t).sort((a, b) => levelBytes[b] - levelBytes[a] || a - b);
  const bins: { free: number; levels: number[] }[] = [];
  for (const t of order) {
    if (levelBytes[t] > budgetBytes) continue;
    const bin = bins.find((b) => b.free >= levelBytes[t]);
    if (bin) { bin.free -= levelBytes[t]; bin.levels.push(t); } else bins.push({ free: budgetBytes - levelBytes[t], levels: [t] });
  }
  bins.sort((a, b) => Math.min(...a.levels) - Math.min(...b.levels));
  const groupOf = levelBytes.map(() => -1);
  bins.forEach((b, g) => b.levels.forEach((t) => { groupOf[t] = g; }));
  return { groupOf, groups: bins.length };
}

/**
 * The front side: member predictions [levels × K] from the level hosts, group g on host
 * g mod hosts.length (a host's groups one after another, hosts at once). A run whose levels
 * all fit one budget is predicted here, as without hosts. Each asked-for level must fit the
 * budget alone, else a 422 names both sizes; a host that fails gives a 502 naming it.
 */
export function spreadOverLevelHosts(hosts: readonly LevelHostBinding[], budgetBytes: number): PredictMembers {
  if (hosts.length === 0) throw new RangeError('spreadOverLevelHosts: no level hosts');
  const plans = new Map<string, ReturnType<typeof planLevelGroups>>();
  const planOf = (run: LoadedRun) => {
    let plan = plans.get(run.etag);
    if (!plan) {
      if (plans.size >= 8) plans.delete(plans.keys().next().value!);
      plans.set(run.etag, plan = planLevelGroups(run.manifest.levels.map((_, t) => run.levelFileBytes(t)), budgetBytes));
    }
    return plan;
  };
  return async (run, input, levelIndices, note) => {
    const wanted = levelIndices ?? run.manifest.levels.map((_, t) => t);
    for (const t of wanted) assertFitsBudget(`level ${run.manifest.levels[t].name} of run ${run.runId}`, run.levelFileBytes(t), budgetBytes);
    const plan = planOf(run);
    if (plan.groups <= 1) return liveMemberPredictions(run, input, levelIndices);
    const byHost = new Map<number, Map<number, number[]>>();
    for (const t of wanted) {
      const g = plan.groupOf[t], h = g % hosts.length;
      let groups = byHost.get(h);
      if (!groups) byHost.set(h, groups = new Map());
      groups.set(g, [...(groups.get(g) ?? []), t]);
    }
    const out = newClassArray(run.levels * run.K, classBytesFor(run.numClasses));
    const figures: (LevelHostFigures & { group: number })[] = [];
    await Promise.all([...byHost].map(async ([h, groups]) => {
      for (const [g, levels] of groups) {
        const f = await callHost(hosts[h], run, input, levels, out);
        figures.push({ ...f, group: g });
      }
    }));
    note?.(figures.sort((a, b) => a.group - b.group).map(({ group: _, ...f }) => f));
    return out;
  };
}

async function callHost(host: LevelHostBinding, run: LoadedRun, input: Float32Array, levels: number[], out: ClassArray): Promise<LevelHostFigures> {
  const names = levels.map((t) => run.manifest.levels[t].name);
  const what = `level host ${host.name} (levels ${names.join(', ')} of run ${run.runId})`;
  let reply: LevelHostReply;
  try {
    reply = await host.stub.predict({ runId: run.runId, etag: run.etag, levels: names, input });
  } catch (err) {
    // The host's invocation itself failed (unreachable, out of memory, over its CPU time).
    throw new ApiError(502, 'level_host_failed', `${what} failed: ${String((err as Error)?.message ?? err).slice(0, 300)}`, { cause: err });
  }
  if ('error' in reply) {
    const { status, code, message } = reply.error;
    // The host's own 4xx (a level over its budget, an unknown level) is the caller's answer; anything else is ours.
    if (status >= 400 && status < 500 && status !== 409) throw new ApiError(status as 400, code, message);
    throw new ApiError(502, 'level_host_failed', `${what} failed: ${code}: ${message}`);
  }
  const { predictions: p, figures } = reply;
  const { K } = run;
  if (!(p instanceof Uint8Array || p instanceof Uint16Array) || p.length !== levels.length * K || p.some((c) => c >= run.numClasses)) {
    throw new ApiError(502, 'level_host_failed', `${what} answered ${p?.length ?? 'no'} predictions, not ${levels.length} × ${K} classes below ${run.numClasses}`);
  }
  levels.forEach((t, j) => out.set(p.subarray(j * K, (j + 1) * K), t * K));
  return { host: host.name, ...figures };
}
