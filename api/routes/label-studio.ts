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
import { parseLabelConfig } from '../label-studio/config.ts';
import { predictTasks, scoringLevelIndex } from '../label-studio/predict.ts';
import { PredictRequestSchema, PredictResponseSchema, SetupRequestSchema, WebhookSchema } from '../label-studio/schemas.ts';
import { ErrorSchema } from '../schemas.ts';

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
  c.header('Cache-Control', 'no-store');
  return new URL(c.req.url).pathname === '/ml/webhook' ? webhookLimit(c, next) : requireLabelStudioAuth(c, next);
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
  description: 'model_version is the id of the run that answers (PIE_LABEL_STUDIO_RUN, default the latest). Label Studio only asks for predictions a task does not already have for that version, so publishing a new run re-predicts.',
  request: { body: { required: true, content: { 'application/json': { schema: SetupRequestSchema } } } },
  responses: { 200: json(z.object({ model_version: z.string() }), 'The model version'), ...errors },
}), async (c) => {
  parseLabelConfig(c.req.valid('json').schema);
  const { run } = c.var.options.labelStudio;
  // Only the id: loading a run can take longer than the 3 s Label Studio gives /setup.
  const modelVersion = run === 'latest' ? await c.var.repo.latestId() : run;
  return c.json({ model_version: modelVersion }, 200);
});

labelStudio.openapi(createRoute({
  method: 'post', path: '/ml/predict', tags, security,
  summary: 'Label Studio ML backend: one prediction per task, PIEs scored highest',
  description: "Each task's image (data.<key of the config's Image value>) is fetched — an http(s) URL, a data: URL, or a Label Studio path such as /data/upload/… resolved against LABEL_STUDIO_URL with its API token — then predicted live by every model of every level. " +
    "The result is the dense population's modal label, as a choice of the config (matched like label-studio-ml-backend's build_label_map: predicted_values, exact, then ignoring case). " +
    'The score puts PIEs at the scoring level (PIE_LABEL_STUDIO_LEVEL, default the most pruned level) first. A task whose image fails gets an empty result, score 0 and the reason in `error`.',
  request: { body: { required: true, content: { 'application/json': { schema: PredictRequestSchema } } } },
  responses: { 200: json(PredictResponseSchema, 'One prediction per task, in task order'), ...errors },
}), async (c) => {
  const body = c.req.valid('json');
  const config = parseLabelConfig(body.label_config);
  const { options, repo } = c.var;
  const run = await repo.get(options.labelStudio.run);
  const scoringLevel = scoringLevelIndex(run, options.labelStudio.level);
  const tasks = Array.isArray(body.tasks) ? body.tasks : [body.tasks];
  if (tasks.length > options.labelStudio.maxTasks) {
    throw new PayloadTooLarge(`${tasks.length} tasks in one request; the limit is ${options.labelStudio.maxTasks} (PIE_ML_MAX_TASKS)`);
  }
  const ti = options.taskImages;
  let slots = fetchSlots.get(options);
  if (!slots) fetchSlots.set(options, slots = new Semaphore(ti.maxConcurrent));
  const results = await predictTasks(run, tasks, config, scoringLevel, {
    labelStudioUrl: options.labelStudio.url,
    apiKey: options.labelStudio.apiKey,
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    policy: ti,
    limits: { ...options.imageLimits, maxBytes: ti.maxBytes },
    timeoutMs: ti.timeoutMs,
    concurrency: ti.maxConcurrent,
    fetchSlots: slots,
    prepare: options.prepareUpload,
  });
  const failed = results.flatMap((r, i) => (r.error ? [`task ${tasks[i].id ?? `#${i}`}: ${r.error.code}`] : []));
  if (failed.length) console.warn(`label-studio predict: ${failed.length} of ${tasks.length} tasks without a prediction (${failed.slice(0, 5).join('; ')}${failed.length > 5 ? '; …' : ''})`);
  return c.json({ results }, 200);
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
