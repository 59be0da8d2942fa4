/**
 * Connect Model → Retrieve Predictions → sort by prediction score, against a Label Studio
 * modeled on its source (HumanSignal/label-studio, label_studio/):
 * - connect: ml/serializers.py `MLBackendSerializer.validate` (/health, /setup; a failed /setup
 *   shows "Successfully connected to … Reason: <error>", the error being Python requests'
 *   "400 Client Error: <reason phrase> for url: <url>" from ml/api_connector.py `MLApi._request`),
 *   then ml/api.py `perform_create`: `update_state()` stores /setup's model_version on the backend,
 *   and the project's model version becomes the connection's title if it had none;
 * - retrieve: ml/models.py `MLBackend.predict_tasks`: /setup again, skip tasks that hold a
 *   prediction of that version, /predict the rest, store each entry of `results` (a dict, or a
 *   list of them; entries without `result` are skipped) with `r.model_version` or the backend's;
 * - the project's model version may only be set to a connection title or a version some stored
 *   prediction has (projects/serializers.py `validate_model_version`);
 * - the Data Manager's "Prediction score" averages the predictions whose model_version equals the
 *   project's (data_manager/managers.py `annotate_predictions_score`, feature flag off).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createApp } from '../../api/app.ts';
import { DEFAULT_MAX_BODY_BYTES, type AppOptions } from '../../api/context.ts';
import { RunRepository } from '../../api/runs.ts';
import { FsStore } from '../../node/store-fs.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const LS = 'http://label-studio.test:8080';
const PIE = 'http://pie-lens.test:8787';
const TOKEN = 'c1d5e5a0f4b3e2d1c0b9a8f7e6d5c4b3a2f1e0d9';
const CLASSES = Array.from({ length: 10 }, (_, c) => `class ${c}`);
const config = (choices = CLASSES) => `<View><Image name="image" value="$image"/><Choices name="label" toName="image" choice="single">${choices.map((c) => `<Choice value="${c}"/>`).join('')}</Choices></View>`;

interface Prediction { id: number; task: number; model_version: string; score: number | null; result: unknown }
interface Backend { id: number; title: string; url: string; model_version: string; auto_update: boolean; state: string; error_message: string | null }

/** The parts of Label Studio this flow goes through, as its source has them. */
class ModelLabelStudio {
  project = { id: 1, uid: '1.1763629000', title: 'PIE review', model_version: '' as string | null, show_collab_predictions: true, label_config: config() };
  backends: Backend[] = [];
  tasks: { id: number; data: Json }[] = [];
  predictions: Prediction[] = [];
  /** Every exchange with the ML backend: what the closing note quotes. */
  wire: { request: string; body?: unknown; status: number; reason: string; response: unknown }[] = [];
  uploads = new Map<string, Uint8Array>();
  private nextPrediction = 1;

  constructor(private backend: (path: string, init?: RequestInit) => Promise<Response>) {}

  private async ml(method: 'GET' | 'POST', url: string, body?: unknown) {
    const path = url.replace(PIE, '');
    const r = await this.backend(path, method === 'POST'
      ? { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
      : { method });
    const response = await r.json().catch(() => null);
    this.wire.push({ request: `${method} ${path}`, body, status: r.status, reason: r.statusText, response });
    // requests' raise_for_status: "<code> Client Error: <reason> for url: <url>"; the body is not read.
    if (r.status >= 400) return { error: `${r.status} ${r.status < 500 ? 'Client' : 'Server'} Error: ${r.statusText} for url: ${url}` };
    return { response };
  }

  private setupBody() {
    return { project: this.project.uid, schema: this.project.label_config, hostname: LS, access_token: TOKEN, extra_params: null };
  }

  async updateState(b: Backend): Promise<string | null> {
    if ((await this.ml('GET', `${b.url}/health`)).error) { b.state = 'DI'; return null; }
    const setup = await this.ml('POST', `${b.url}/setup`, this.setupBody());
    if (setup.error) { b.state = 'ER'; b.error_message = setup.error; return null; }
    b.state = 'CO';
    const mv = (setup.response as Json).model_version as string;
    if (b.auto_update) b.model_version = mv;
    b.error_message = null;
    return mv;
  }

  /** POST /api/ml: Connect Model. Throws the message Label Studio shows. */
  async connect(title: string, url: string): Promise<Backend> {
    const health = await this.ml('GET', `${url}/health`);
    if (health.error) throw new Error(`Can't connect to ML backend ${url}, health check failed. Additional info: ${health.error}`);
    const setup = await this.ml('POST', `${url}/setup`, this.setupBody());
    if (setup.error) throw new Error(`Successfully connected to ${url} but it doesn't look like a valid ML backend. Reason: ${setup.error}.`);
    const b: Backend = { id: this.backends.length + 1, title, url, model_version: '', auto_update: true, state: 'DI', error_message: null };
    this.backends.push(b);
    await this.updateState(b);
    if (this.project.show_collab_predictions && !this.project.model_version) this.project.model_version = title;
    return b;
  }

  /** Data Manager action retrieve_tasks_predictions on the selected tasks. */
  async retrieve(taskIds = this.tasks.map((t) => t.id)): Promise<number> {
    const b = this.backends[0];
    const mv = await this.updateState(b);
    if (b.state !== 'CO') return 0;
    const todo = this.tasks.filter((t) => taskIds.includes(t.id) && !this.predictions.some((p) => p.task === t.id && p.model_version === mv));
    if (!todo.length) return 0;
    const tasks = todo.map((t) => ({ id: t.id, data: t.data, meta: {}, annotations: [], predictions: [], project: this.project.id, is_labeled: false, overlap: 1, inner_id: t.id, total_annotations: 0, cancelled_annotations: 0, total_predictions: 0, file_upload: null }));
    const r = await this.ml('POST', `${b.url}/predict`, { tasks, project: this.project.uid, label_config: this.project.label_config, params: { login: null, password: null, context: null } });
    if (r.error) return 0;
    const results = (r.response as Json).results as unknown[];
    if (results.length !== tasks.length) throw new Error('this flow never sends fewer results than tasks');
    let stored = 0;
    tasks.forEach((t, i) => {
      const entry = results[i];
      for (const p of (Array.isArray(entry) ? entry : [entry]) as Json[]) {
        if (!p || !('result' in p)) continue;
        this.predictions.push({ id: this.nextPrediction++, task: t.id, model_version: p.model_version ?? b.model_version, score: p.score ?? null, result: p.result });
        stored++;
      }
    });
    return stored;
  }

  /** Prediction score column per task, and the tasks sorted by it (descending; empty last). */
  dataManager(): { id: number; score: number | null }[] {
    const mv = this.project.model_version;
    const rows = this.tasks.map((t) => {
      const ps = this.predictions.filter((p) => p.task === t.id && (mv === null || p.model_version === mv) && p.score !== null);
      return { id: t.id, score: ps.length ? ps.reduce((s, p) => s + p.score!, 0) / ps.length : null };
    });
    return rows.sort((a, b) => (b.score ?? -1) - (a.score ?? -1));
  }

  /** Label Studio's own API, as PIE Lens calls it with the token. */
  async api(method: string, url: URL, init?: RequestInit): Promise<Response> {
    const auth = new Headers(init?.headers).get('authorization');
    if (auth !== `Token ${TOKEN}`) return Response.json({ detail: 'Authentication credentials were not provided.' }, { status: 401 });
    if (url.pathname === `/api/projects/${this.project.id}/` && method === 'GET') return Response.json(this.project);
    if (url.pathname === `/api/projects/${this.project.id}/` && method === 'PATCH') {
      const { model_version: value } = JSON.parse(String(init?.body)) as { model_version: string };
      const known = this.backends.some((b) => b.title === value) || this.predictions.some((p) => p.model_version === value);
      if (value !== this.project.model_version && value !== '' && !known) {
        return Response.json({ validation_errors: { model_version: ["Model version doesn't exist either as live model or as static predictions."] } }, { status: 400 });
      }
      this.project.model_version = value;
      return Response.json(this.project);
    }
    if (url.pathname === '/api/ml' && method === 'GET' && url.searchParams.get('project') === String(this.project.id)) {
      for (const b of this.backends) await this.updateState(b);
      return Response.json(this.backends);
    }
    if (url.pathname.startsWith('/data/upload/')) {
      const bytes = this.uploads.get(url.pathname);
      return bytes ? new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'image/png' } }) : new Response('not found', { status: 404 });
    }
    return new Response('not found', { status: 404 });
  }
}

let dir: string;
let store: FsStore;
let firstRun: string;
let ls: ModelLabelStudio;
let app: ReturnType<typeof createApp>;
let pies: number[] = [];
let nonPies: number[] = [];
let info: ReturnType<typeof vi.spyOn>;
let warn: ReturnType<typeof vi.spyOn>;

const options = (over: Partial<AppOptions['labelStudio']> = {}): AppOptions => ({
  apiKeys: ['pie-key'], publicReads: false, corsOrigins: [], maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  taskImages: { allowedOrigins: [LS], allowPrivate: false, timeoutMs: 10_000, maxBytes: DEFAULT_MAX_BODY_BYTES, maxConcurrent: 4 },
  labelStudio: { run: 'latest', url: LS, apiKey: TOKEN, maxTasks: 100, ...over },
  fetch: async (input, init) => {
    const url = new URL(String(input));
    if (url.origin === LS) return ls.api(init?.method ?? 'GET', url, init);
    throw new TypeError('fetch failed');
  },
});
// Label Studio connects with Basic auth, the API key as password.
const basic = { authorization: `Basic ${btoa('label-studio:pie-key')}` };
const viaBackend = async (path: string, init: RequestInit = {}): Promise<Response> =>
  app.request(`${PIE}${path}`, { ...init, headers: { ...basic, ...(init.headers as Record<string, string>) } });

beforeAll(async () => {
  info = vi.spyOn(console, 'info').mockImplementation(() => {});
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  // A store of our own: the test publishes a second run into it.
  dir = mkdtempSync(join(tmpdir(), 'pie-ls-flow-'));
  cpSync(inject('tinyRunDir'), dir, { recursive: true });
  store = new FsStore(dir);
  firstRun = readFileSync(join(dir, 'latest'), 'utf8').trim();
  app = createApp(new RunRepository(store, { latestTtlMs: 0 }), options());
  ls = new ModelLabelStudio(viaBackend);
  const get = async (path: string) => (await app.request(path, { headers: { authorization: 'Bearer pie-key' } })).json() as Promise<Json>;
  const queue = await get('/v1/runs/latest/review?level=p90&limit=6');
  pies = queue.items.map((i: Json) => i.index);
  for (let i = 0; nonPies.length < 6; i++) if (!(await get(`/v1/runs/latest/images/${i}`)).pieLevels.includes('p90')) nonPies.push(i);
  // Tasks as Label Studio keeps them: uploads, and PIE Lens's own image URLs (private: PIE_API_KEYS is set).
  let id = 100;
  for (const i of [...nonPies.slice(0, 3), ...pies.slice(0, 3)]) {
    const png = new Uint8Array(await (await app.request(`/v1/runs/latest/images/${i}/image.png`, { headers: { authorization: 'Bearer pie-key' } })).arrayBuffer());
    ls.uploads.set(`/data/upload/1/${i}.png`, png);
    ls.tasks.push({ id: id++, data: { image: `/data/upload/1/${i}.png` } });
  }
  for (const i of [...nonPies.slice(3), ...pies.slice(3)]) ls.tasks.push({ id: id++, data: { image: `${PIE}/v1/runs/${firstRun}/images/${i}/image.png?scale=4` } });
});
afterAll(() => {
  info.mockRestore();
  warn.mockRestore();
  // Every exchange of the flow, for people who want to see the wire (test-artifacts/ is not committed).
  const out = join(import.meta.dirname, '../../test-artifacts');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'label-studio-flow.json'), JSON.stringify(ls.wire, null, 2));
});

const isPieTask = (taskId: number) => {
  const ref = String(ls.tasks.find((t) => t.id === taskId)!.data.image);
  const index = Number(/\/(\d+)(?:\.png|\/image\.png)/.exec(ref)![1]);
  return pies.includes(index);
};

describe('connect → retrieve → sort', () => {
  it('a config whose choices do not match is refused with the reason Label Studio shows', async () => {
    ls.project.label_config = config([...CLASSES.slice(0, 8), 'Cat']);
    await expect(ls.connect('PIE Lens', `${PIE}/ml`)).rejects.toThrow(
      /Reason: 400 Client Error: choices_mismatch: .*missing .*"class 8", "class 9".*extra .*"Cat".* for url: http:\/\/pie-lens\.test:8787\/ml\/setup/,
    );
    const refused = ls.wire.at(-1)!;
    expect(refused).toMatchObject({ request: 'POST /ml/setup', status: 400, response: { error: { code: 'choices_mismatch' } } });
    expect(ls.backends).toHaveLength(0);
    // One log line with the reason, never the request body.
    const line = String(warn.mock.calls.at(-1)![0]);
    expect(line).toMatch(/^label-studio: POST \/ml\/setup → 400 choices_mismatch: .*"class 9"/);
    expect(line).not.toMatch(/<View>/);
    ls.project.label_config = config();
  });

  it('after Connect Model and one Retrieve Predictions, sorting by prediction score puts the PIEs first', async () => {
    const b = await ls.connect('PIE Lens', `${PIE}/ml`);
    expect(b).toMatchObject({ state: 'CO', model_version: firstRun });
    // What Label Studio does on connecting: the project's model version is the title.
    expect(ls.project.model_version).toBe('PIE Lens');
    expect(await ls.retrieve()).toBe(12);
    // PIE Lens then moves the project's model version to the run once the predictions are stored.
    await vi.waitFor(() => expect(ls.project.model_version).toBe(firstRun), { timeout: 8000, interval: 50 });
    const rows = ls.dataManager();
    expect(rows.every((r) => r.score !== null)).toBe(true);
    expect(rows.slice(0, 6).map((r) => isPieTask(r.id))).toEqual([true, true, true, true, true, true]);
    expect(rows.slice(6).some((r) => isPieTask(r.id))).toBe(false);
    expect(String(info.mock.calls.map((c: unknown[]) => c[0]).join('\n'))).toMatch(/project 1: model version "PIE Lens" → /);
  });

  it('a second retrieve sends nothing: every task has a prediction of this version', async () => {
    const before = ls.wire.length;
    expect(await ls.retrieve()).toBe(0);
    expect(ls.wire.slice(before).map((w) => w.request)).toEqual(['GET /ml/health', 'POST /ml/setup']);
  });

  it('a task whose image cannot be had gets no prediction, so the next retrieve tries it again', async () => {
    ls.tasks.push({ id: 200, data: { image: '/data/upload/1/late.png' } });
    expect(await ls.retrieve([200])).toBe(0);
    const sent = ls.wire.at(-1)!;
    expect(sent.response).toMatchObject({ results: [[]], errors: [{ task: 200, code: 'fetch_failed' }] });
    // The client gets a generic text; the log has the status.
    expect(warn.mock.calls.map((c: unknown[]) => String(c[0])).join('\n')).toMatch(/task 200: fetch_failed: GET .*404/);
    // The file arrives; the next retrieve asks again and stores it.
    ls.uploads.set('/data/upload/1/late.png', ls.uploads.get(`/data/upload/1/${pies[0]}.png`)!);
    expect(await ls.retrieve([200])).toBe(1);
    expect(ls.predictions.filter((p) => p.task === 200)).toHaveLength(1);
    ls.tasks.pop();
  });

  it('a newly published run re-predicts every task and the score follows it; old predictions stay', async () => {
    const next = `${firstRun}-b`;
    cpSync(join(dir, firstRun), join(dir, next), { recursive: true });
    const manifestPath = join(dir, next, 'manifest.json');
    writeFileSync(manifestPath, readFileSync(manifestPath, 'utf8').replace(`"runId": "${firstRun}"`, `"runId": "${next}"`).replace(`"runId":"${firstRun}"`, `"runId":"${next}"`));
    writeFileSync(join(dir, 'latest'), `${next}\n`);
    expect(await ls.retrieve()).toBe(12);
    expect(ls.backends[0].model_version).toBe(next);
    await vi.waitFor(() => expect(ls.project.model_version).toBe(next), { timeout: 8000, interval: 50 });
    const versions = new Set(ls.predictions.filter((p) => p.task === 100).map((p) => p.model_version));
    expect(versions).toEqual(new Set([firstRun, next]));
    expect(ls.dataManager().slice(0, 6).every((r) => isPieTask(r.id))).toBe(true);
  });

  it("a project showing someone else's model version is left alone", async () => {
    ls.predictions.push({ id: 9999, task: 100, model_version: 'team-import-v3', score: 0.9, result: [] });
    ls.project.model_version = 'team-import-v3';
    const other = createApp(new RunRepository(store, { latestTtlMs: 0 }), options());
    const r = await other.request(`${PIE}/ml/predict`, {
      method: 'POST', headers: { ...basic, 'content-type': 'application/json' },
      body: JSON.stringify({ tasks: [{ id: 100, data: ls.tasks[0].data }], project: ls.project.uid, label_config: ls.project.label_config }),
    });
    expect(r.status).toBe(200);
    await vi.waitFor(() => expect(String(info.mock.calls.at(-1)?.[0])).toMatch(/model version 'team-import-v3', not this run .*left alone/), { timeout: 3000 });
    expect(ls.project.model_version).toBe('team-import-v3');
  });
});
