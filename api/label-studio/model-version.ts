/**
 * Keeps a Label Studio project's model version on the run that answers it, so the Data
 * Manager's "Prediction score" column (and sorting by it) shows PIE Lens's scores.
 *
 * What Label Studio does (HumanSignal/label-studio, label_studio/):
 * - Connect Model (ml/api.py `MLBackendListAPI.perform_create`): calls /health and /setup, stores
 *   /setup's `model_version` on the ML backend (ml/models.py `MLBackend.update_state`), then, if
 *   the project has no model version yet, sets the project's model version to the connection's
 *   *title* (e.g. "PIE Lens").
 * - Retrieve Predictions (ml/models.py `MLBackend.predict_tasks`): calls /setup again (a new run
 *   means a new model_version), skips tasks that already hold a prediction of that version, posts
 *   the rest to /predict and stores each prediction with its own `model_version` (else the
 *   backend's).
 * - The Data Manager's prediction score (data_manager/managers.py `annotate_predictions_score`)
 *   averages only the predictions whose model_version equals the *project's* model version. With
 *   that still the title, every score is empty; only newer releases map a title to its backend's
 *   model_version.
 * - A project's model version may only be set to a connection title or a version some stored
 *   prediction has (projects/serializers.py `validate_model_version`), so it can be moved to the
 *   run id only once Label Studio has stored that run's predictions — after /predict answers.
 *
 * So after each /predict, in the background, this reads the project and moves its model version
 * to the run id when it names PIE Lens — empty, a PIE Lens connection's title, or an earlier PIE
 * Lens run — retrying while Label Studio is still storing the predictions. A model version that
 * names anything else (the user's own imported predictions, another model) is left alone and
 * logged once.
 */

export interface AlignOptions {
  labelStudioUrl: string;
  authorize: () => Promise<string>;
  fetch: typeof fetch;
  /** Label Studio's project field of /predict and /setup: "<id>.<created-at>" (or a bare id). */
  project: string | number;
  runId: string;
  /** Whether a model version is the id of a run in this API's store. */
  isOwnRun: (version: string) => Promise<boolean>;
  /** Waits before each retry of the update, ms (Label Studio stores the predictions meanwhile). */
  retryDelaysMs?: number[];
  timeoutMs?: number;
  log?: (line: string) => void;
}

export type AlignOutcome =
  | { status: 'aligned'; from: string | null }
  | { status: 'already' }
  | { status: 'foreign'; version: string }
  | { status: 'failed'; reason: string };

/** The numeric project id in Label Studio's project uid, or null. */
export function projectIdOf(project: string | number | null | undefined): number | null {
  const m = /^(\d+)(?:\.\d+)?$/.exec(String(project ?? '').trim());
  return m ? Number(m[1]) : null;
}

interface LsProject { model_version?: string | null }
interface LsBackend { title?: string | null; model_version?: string | null }

export async function alignProjectModelVersion(o: AlignOptions): Promise<AlignOutcome> {
  const id = projectIdOf(o.project);
  if (id === null) return { status: 'failed', reason: `project '${String(o.project)}' is not a Label Studio project id` };
  const base = o.labelStudioUrl.replace(/\/+$/, '');
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
    const headers: Record<string, string> = { authorization: await o.authorize(), accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await o.fetch(`${base}${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
    });
    return { status: res.status, json: await res.json().catch(() => null) };
  };
  try {
    const got = await call('GET', `/api/projects/${id}/`);
    if (got.status !== 200) return { status: 'failed', reason: `GET /api/projects/${id}/ → ${got.status}` };
    const current = (got.json as LsProject | null)?.model_version ?? null;
    if (current === o.runId) return { status: 'already' };
    let ours = !current || await o.isOwnRun(current);
    if (!ours) {
      // The title Label Studio copied on connecting: one of this project's connections whose
      // model version is the run that answers.
      const ml = await call('GET', `/api/ml?project=${id}`);
      const backends = Array.isArray(ml.json) ? ml.json as LsBackend[] : [];
      ours = backends.some((b) => b.title === current && b.model_version === o.runId);
    }
    if (!ours) return { status: 'foreign', version: current! };
    const delays = o.retryDelaysMs ?? [500, 1000, 2000, 4000, 8000];
    let last = 0;
    for (let attempt = 0; attempt <= delays.length; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, delays[attempt - 1]));
      const res = await call('PATCH', `/api/projects/${id}/`, { model_version: o.runId });
      if (res.status === 200) return { status: 'aligned', from: current };
      last = res.status;
      // 400: the run's predictions are not stored yet (validate_model_version); anything else will not change.
      if (res.status !== 400) break;
    }
    return { status: 'failed', reason: `PATCH /api/projects/${id}/ → ${last}` };
  } catch (err) {
    return { status: 'failed', reason: (err as Error).message };
  }
}

/**
 * Runs `alignProjectModelVersion` once at a time per Label Studio project and run (a retrieve
 * may send several /predict batches), and logs each outcome once: a project's model version
 * can change in Label Studio at any time, so every /predict checks it again (one GET).
 */
export class ModelVersionKeeper {
  private running = new Map<string, Promise<AlignOutcome>>();
  private logged = new Set<string>();

  align(o: AlignOptions): Promise<AlignOutcome> {
    const id = projectIdOf(o.project);
    const key = `${o.labelStudioUrl} ${id} ${o.runId}`;
    const inFlight = this.running.get(key);
    if (inFlight) return inFlight;
    const log = o.log ?? ((line: string) => console.info(line));
    const once = (what: string, line: string) => {
      if (this.logged.has(`${key} ${what}`)) return;
      this.logged.add(`${key} ${what}`);
      log(line);
    };
    const p = alignProjectModelVersion(o).then((r) => {
      this.running.delete(key);
      if (r.status === 'aligned') log(`label-studio: project ${id}: model version ${JSON.stringify(r.from)} → ${o.runId}, so the prediction score column shows this run's scores`);
      else if (r.status === 'foreign') once(`foreign ${r.version}`, `label-studio: project ${id} shows predictions of model version '${r.version}', not this run (${o.runId}); left alone — set the project's model version to ${o.runId} to sort by PIE score`);
      else if (r.status === 'failed') once(`failed ${r.reason}`, `label-studio: project ${id}: could not set the model version to ${o.runId} (${r.reason}); set it in the project's settings to sort by PIE score`);
      return r;
    });
    this.running.set(key, p);
    return p;
  }
}
