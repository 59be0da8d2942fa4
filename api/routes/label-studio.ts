/**
 * The Label Studio ML backend protocol under /ml, so a Label Studio project with an image
 * classification config (`<Choices>` over an `<Image>`) can connect this API as its model
 * (backend URL `https://<api>/ml`). Each task comes back pre-labeled with the dense
 * population's modal label and scored so that PIEs sort first.
 *
 * Protocol as implemented by HumanSignal/label-studio-ml-backend label_studio_ml/api.py (routes,
 * response shapes, Basic auth) and called by HumanSignal/label-studio label_studio/ml/api_connector.py
 * (request bodies, timeouts: health 1 s, setup 3 s, predict 100 s) and label_studio/ml/models.py
 * (how results are paired with tasks and stored). Nothing is kept between requests: /predict
 * carries the labeling config, so it is parsed per request.
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv, AppOptions } from '../context.ts';
import { PayloadTooLarge } from '../errors.ts';
import { Semaphore } from '../limit.ts';
import { requireLabelStudioAuth } from '../label-studio/auth.ts';
import { buildAnswer, datasetMemberPredictions } from '../answer.ts';
import { checkChoices, parseLabelConfig } from '../label-studio/config.ts';
import { ModelVersionKeeper } from '../label-studio/model-version.ts';
import { ownImageRef } from '../label-studio/own-image.ts';
import { predictTasks, scoringLevelIndex } from '../label-studio/predict.ts';
import { labelStudioAuthorizer, TaskImageError } from '../label-studio/task-image.ts';
import { datasetPng } from './images.ts';
import { PredictRequestSchema, PredictResponseSchema, SetupRequestSchema, WebhookSchema } from '../label-studio/schemas.ts';
import { ErrorSchema } from '../schemas.ts';
import { NotFound } from '../errors.ts';

/** Downloads in flight, per app instance (its options), across all requests. */
const fetchSlots = new WeakMap<AppOptions, Semaphore>();

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const errors = {
  400: json(ErrorSchema, 'Malformed JSON, a body of the wrong shape, or a labeling config without <Choices> over an <Image>'),
  401: json(ErrorSchema, 'Missing or wrong credentials (HTTP Basic, or an API key)'),
  404: json(ErrorSchema, 'The configured run or level does not exist'),
} as const;
const security: Record<string, string[]>[] = [{ labelStudioBasic: [] }, { bearer: [] }];
const tags = ['label-studio'];

export const labelStudio = new OpenAPIHono<AppEnv>();
labelStudio.openAPIRegistry.registerComponent('securitySchemes', 'labelStudioBasic', { type: 'http', scheme: 'basic' });

/**
 * An HTTP reason phrase carrying `message`. Label Studio shows an ML backend's failure as the
 * text of Python requests' HTTPError — "400 Client Error: <reason phrase> for url: …" — and never
 * its body (label_studio/ml/api_connector.py `MLApi._request`; the flagged variant that appends
 * the body tests the Response, which is false for any 4xx). So the reason goes in the status
 * line: printable ASCII only (http.client reads it as Latin-1), one line, bounded.
 */
export function reasonPhrase(message: string): string {
  const ascii = message.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^\x20-\x7e]+/g, (m) => (/\s/.test(m) ? ' ' : '?'));
  const one = ascii.replace(/\s+/g, ' ').trim();
  return one.length > 480 ? `${one.slice(0, 477)}...` : one;
}

/** Header the Node entry copies into the status line (@hono/node-server writes only the status code). */
export const REASON_HEADER = 'x-pie-reason';

// Label Studio posts every project event to <backend>/webhook, without the backend's credentials
// (label_studio/ml/models.py `create_ml_webhook` makes a plain webhook). The route reads and
// keeps nothing, so it stays open rather than answering each event with a 401.
// Being open, it takes small bodies only (Label Studio's events carry a task and an annotation).
export const WEBHOOK_MAX_BYTES = 64 * 1024;
const webhookLimit = bodyLimit({
  maxSize: WEBHOOK_MAX_BYTES,
  onError: () => { throw new PayloadTooLarge(`webhook bodies are limited to ${WEBHOOK_MAX_BYTES} bytes`); },
});
labelStudio.use('/ml/*', async (c, next) => {
  const path = new URL(c.req.url).pathname;
  const refused = await (path === '/ml/webhook' ? webhookLimit(c, next) : requireLabelStudioAuth(c, next));
  if (refused instanceof Response) c.res = refused;
  c.header('Cache-Control', 'no-store');
  const res = c.res;
  if (res.status < 400 || res.status >= 500) return;
  // Every refusal on one line with its reason (never the request body: it carries task data).
  const body = await res.clone().json().catch(() => null) as { error?: { code?: string; message?: string } } | null;
  const code = body?.error?.code ?? 'error', message = body?.error?.message ?? res.statusText;
  console.warn(`label-studio: ${c.req.method} ${path} → ${res.status} ${code}: ${message.replace(/\s+/g, ' ')}`);
  const reason = reasonPhrase(`${code}: ${message}`);
  const headers = new Headers(res.headers);
  headers.set(REASON_HEADER, reason);
  c.res = undefined;
  c.res = new Response(res.body, { status: res.status, statusText: reason, headers });
});

const HealthSchema = z.object({ status: z.literal('UP'), model_class: z.string() }).openapi('LabelStudioHealth');
const health = { status: 'UP' as const, model_class: 'PieLens' };

labelStudio.openapi(createRoute({
  method: 'get', path: '/ml/health', tags, security,
  summary: 'Label Studio ML backend: health (also at /ml/)',
  responses: { 200: json(HealthSchema, 'Up'), 401: errors[401] },
}), (c) => c.json(health, 200));
// label_studio_ml/api.py serves health at the backend's root too.
labelStudio.get('/ml', (c) => c.json(health, 200));
labelStudio.get('/ml/', (c) => c.json(health, 200));

labelStudio.openapi(createRoute({
  method: 'post', path: '/ml/setup', tags, security,
  summary: "Label Studio ML backend: check the project's labeling config, answer the model version",
  description: 'model_version is the id of the run that answers (PIE_LABEL_STUDIO_RUN, default the latest). Label Studio only asks for predictions a task does not already have for that version, so publishing a new run re-predicts. ' +
    "Refuses (400 choices_mismatch) a config whose choices leave a class of the run without a choice, naming the missing and extra choices; PIE_LABEL_STUDIO_CLASS_MAP maps class names to choice values. A refusal's reason is also the HTTP reason phrase, which is what Label Studio displays.",
  request: { body: { required: true, content: { 'application/json': { schema: SetupRequestSchema } } } },
  responses: { 200: json(z.object({ model_version: z.string() }), 'The model version'), ...errors },
}), async (c) => {
  const config = parseLabelConfig(c.req.valid('json').schema);
  const { run, classMap } = c.var.options.labelStudio;
  // The manifest only: loading a whole run can take longer than the 3 s Label Studio gives /setup.
  const manifest = await c.var.repo.manifestOf(run);
  if (!manifest) throw new NotFound(`no run '${run}' in the store (PIE_LABEL_STUDIO_RUN)`);
  checkChoices(manifest.runId, manifest.dataset.classNames, config, classMap);
  return c.json({ model_version: manifest.runId }, 200);
});

const keeper = new ModelVersionKeeper();

labelStudio.openapi(createRoute({
  method: 'post', path: '/ml/predict', tags, security,
  summary: 'Label Studio ML backend: one prediction per task, PIEs scored highest',
  description: "Each task's image (data.<key of the config's Image value>) is fetched — an http(s) URL, a data: URL, or a Label Studio path such as /data/upload/… resolved against LABEL_STUDIO_URL with its API token — then predicted live by every model of every level. " +
    "The result is the dense population's modal label, as a choice of the config (matched like label-studio-ml-backend's build_label_map: predicted_values, exact, then ignoring case). " +
    'The score puts PIEs at the scoring level (PIE_LABEL_STUDIO_LEVEL, default the most pruned level) first. A task whose image fails gets no prediction ([]) and its reason in `errors`, so the next retrieve tries it again. ' +
    "Images at this API's own /v1/runs/{run}/images/{index}/image.png are answered from the run without a download. Afterwards the project's model version is moved to the run id (when LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY are set) so its prediction score column shows these scores.",
  request: { body: { required: true, content: { 'application/json': { schema: PredictRequestSchema } } } },
  responses: { 200: json(PredictResponseSchema, 'One prediction per task, in task order'), ...errors },
}), async (c) => {
  const body = c.req.valid('json');
  const config = parseLabelConfig(body.label_config);
  const { options, repo } = c.var;
  const ls = options.labelStudio;
  const run = await repo.get(ls.run);
  const { choiceOf } = checkChoices(run.runId, run.manifest.dataset.classNames, config, ls.classMap);
  const scoringLevel = scoringLevelIndex(run, ls.level);
  const tasks = Array.isArray(body.tasks) ? body.tasks : [body.tasks];
  if (tasks.length > ls.maxTasks) {
    throw new PayloadTooLarge(`${tasks.length} tasks in one request; the limit is ${ls.maxTasks} (PIE_ML_MAX_TASKS)`);
  }
  const ti = options.taskImages;
  let slots = fetchSlots.get(options);
  if (!slots) fetchSlots.set(options, slots = new Semaphore(ti.maxConcurrent));
  const fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  const origin = new URL(c.req.url).origin;
  const outcomes = await predictTasks(run, tasks, config, scoringLevel, {
    labelStudioUrl: ls.url,
    apiKey: ls.apiKey,
    fetch: fetchFn,
    policy: ti,
    limits: { ...options.imageLimits, maxBytes: ti.maxBytes },
    timeoutMs: ti.timeoutMs,
    concurrency: ti.maxConcurrent,
    fetchSlots: slots,
    upload: { live: options.liveUpload, prepare: options.prepareUpload, predict: options.predictMembers },
    ownImage: async (ref) => {
      const own = ownImageRef(ref, [origin, ...(options.publicUrl ? [new URL(options.publicUrl).origin] : [])]);
      if (!own) return null;
      const source = await repo.get(own.run).catch((err: unknown) => {
        if (err instanceof NotFound) throw new TaskImageError('fetch_failed', `${ref}: ${err.message}`);
        throw err;
      });
      if (own.index >= source.N) throw new TaskImageError('fetch_failed', `${ref}: run ${source.runId} has no image ${own.index} (it has ${source.N})`);
      // The run's own image: its precomputed answer. Another run's image: predicted live.
      if (source.runId === run.runId) {
        return buildAnswer(run, datasetMemberPredictions(run, own.index), run.labels[own.index], { source: 'dataset', index: own.index, png: ref });
      }
      return datasetPng(source, own.index);
    },
  }, choiceOf);
  const errors = outcomes.flatMap((o, i) => (o.error ? [{ task: tasks[i].id ?? null, position: i, ...o.error }] : []));
  if (errors.length) {
    const shown = errors.slice(0, 5).map((e) => `task ${e.task ?? `#${e.position}`}: ${e.code} (${e.message})`);
    console.warn(`label-studio predict: ${errors.length} of ${tasks.length} tasks without a prediction, retried on the next retrieve: ${shown.join('; ')}${errors.length > 5 ? '; …' : ''}`);
  }
  // After answering: Label Studio stores the predictions, then the project can be moved to this run.
  if (ls.url && ls.apiKey && body.project !== undefined && outcomes.some((o) => o.prediction)) {
    const aligning = keeper.align({
      labelStudioUrl: ls.url, fetch: fetchFn, project: body.project, runId: run.runId,
      authorize: labelStudioAuthorizer({ labelStudioUrl: ls.url, apiKey: ls.apiKey, fetch: fetchFn, policy: ti, timeoutMs: ti.timeoutMs }),
      isOwnRun: async (v) => (await repo.manifestOf(v).catch(() => null)) !== null,
    });
    try { c.executionCtx.waitUntil(aligning); } catch { /* Node: the promise runs on by itself */ }
  }
  return c.json({ results: outcomes.map((o) => o.prediction ?? []), errors }, 200);
});

labelStudio.openapi(createRoute({
  method: 'post', path: '/ml/webhook', tags,
  summary: 'Label Studio ML backend: project events (acknowledged; the models are not trained on annotations)',
  description: 'The populations are trained offline by the trainer, so annotation events change nothing here. Open: Label Studio sends webhooks without the backend credentials.',
  request: { body: { required: true, content: { 'application/json': { schema: WebhookSchema } } } },
  responses: { 200: json(z.object({ status: z.literal('ok') }), 'Acknowledged'), 400: errors[400] },
}), (c) => c.json({ status: 'ok' as const }, 200));

labelStudio.openapi(createRoute({
  method: 'get', path: '/ml/versions', tags, security,
  summary: 'Label Studio ML backend: model versions on offer (the configured run)',
  responses: { 200: json(z.object({ versions: z.array(z.string()) }), 'Versions'), 401: errors[401], 404: errors[404] },
}), async (c) => {
  const { run } = c.var.options.labelStudio;
  return c.json({ versions: [run === 'latest' ? await c.var.repo.latestId() : run] }, 200);
});

labelStudio.openapi(createRoute({
  method: 'get', path: '/ml/metrics', tags, security,
  summary: 'Label Studio ML backend: metrics (none; label_studio_ml/api.py answers {} too)',
  responses: { 200: json(z.object({}), 'No metrics'), 401: errors[401] },
}), (c) => c.json({}, 200));
