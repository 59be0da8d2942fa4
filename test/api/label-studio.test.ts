/**
 * The Label Studio ML backend routes (/ml), called with bodies shaped like the ones Label Studio
 * sends: HumanSignal/label-studio label_studio/ml/api_connector.py (`MLApi.setup`,
 * `_prep_prediction_req`; tasks as serialized by tasks/serializers.py TaskSimpleSerializer) and
 * the request fixtures of HumanSignal/label-studio-ml-backend (tests/test_api.py,
 * tests/test_basic.py, label_studio_ml/examples/yolo/tests/test_choices.py). Task images are the
 * run's own dataset images, as data: URLs and as Label Studio uploads behind its token.
 */
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createApp } from '../../api/app.ts';
import { DEFAULT_MAX_BODY_BYTES, optionsFromEnv, type AppOptions } from '../../api/context.ts';
import { choiceForClass, parseLabelConfig } from '../../api/label-studio/config.ts';
import { FETCH_FAILED_MESSAGE, pieScore } from '../../api/label-studio/predict.ts';
import { decodeDataUrl, labelStudioAuthHeader, loadTaskImage, type TaskImageOptions } from '../../api/label-studio/task-image.ts';
import { RunRepository } from '../../api/runs.ts';
import { FsStore } from '../../node/store-fs.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const LS_URL = 'http://label-studio.test:8080';
const LS_TOKEN = 'c1d5e5a0f4b3e2d1c0b9a8f7e6d5c4b3a2f1e0d9';
const CLASSES = Array.from({ length: 10 }, (_, c) => `class ${c}`);

/** An image-classification config in the form of label_studio_ml/examples/yolo/tests/test_choices.py. */
const labelConfig = (choices: string[] = CLASSES) => `<View>
  <!-- PIE review -->
  <Image name="image" value="$image" zoom="true"/>
  <Header value="Which class?"/>
  <Choices name="label" toName="image" choice="single" showInline="true">
${choices.map((c) => `    <Choice value="${c}"/>`).join('\n')}
  </Choices>
</View>`;

/** A task as label_studio/tasks/serializers.py TaskSimpleSerializer writes it. */
const task = (id: number, data: Record<string, unknown>) => ({
  id, data, meta: {}, created_at: '2026-11-20T09:00:00.000000Z', updated_at: '2026-11-20T09:00:00.000000Z',
  is_labeled: false, overlap: 1, inner_id: id, total_annotations: 0, cancelled_annotations: 0, total_predictions: 0,
  comment_count: 0, unresolved_comment_count: 0, last_comment_updated_at: null, project: 1, updated_by: null,
  file_upload: null, comment_authors: [], annotations: [], predictions: [],
});

/** The /predict body of label_studio/ml/api_connector.py `MLApi._prep_prediction_req`. */
const predictBody = (tasks: unknown[], config = labelConfig()) => ({
  tasks, project: '1.1763629000', label_config: config,
  params: { login: null, password: null, context: null },
});

/** The /setup body of label_studio/ml/api_connector.py `MLApi.setup`. */
const setupBody = (schema = labelConfig()) => ({
  project: '1.1763629000', schema, hostname: 'http://localhost:8080', access_token: LS_TOKEN, extra_params: null,
});

const repo = new RunRepository(new FsStore(inject('tinyRunDir')));
const uploads = new Map<string, Uint8Array>();
const seen: { url: string; authorization: string | null }[] = [];

/** Label Studio serving its uploads (only with its token) and one outside image host. */
const fakeFetch: typeof fetch = async (input, init) => {
  const url = String(input);
  const authorization = new Headers(init?.headers).get('authorization');
  const u = new URL(url);
  // Label Studio's API (the project's model version, test/api/label-studio-flow.test.ts): not here.
  if (u.origin === LS_URL && u.pathname.startsWith('/api/')) return new Response('not found', { status: 404 });
  seen.push({ url, authorization });
  if (u.origin === LS_URL) {
    if (authorization !== `Token ${LS_TOKEN}`) return new Response('{"detail":"Authentication credentials were not provided."}', { status: 401 });
    const bytes = uploads.get(u.pathname);
    return bytes ? new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'image/png' } }) : new Response('not found', { status: 404 });
  }
  if (u.origin === 'https://images.example') {
    const bytes = uploads.get(u.pathname.replace(/^\/cdn/, '/data/upload'));
    return bytes ? new Response(bytes as Uint8Array<ArrayBuffer>) : new Response('not found', { status: 404 });
  }
  throw new TypeError('fetch failed: getaddrinfo ENOTFOUND');
};

const options = (over: Partial<AppOptions> = {}, ls: Partial<AppOptions['labelStudio']> = {}): AppOptions => ({
  apiKeys: [], publicReads: true, corsOrigins: [], maxBodyBytes: DEFAULT_MAX_BODY_BYTES, fetch: fakeFetch,
  taskImages: { allowedOrigins: [LS_URL, 'https://images.example'], allowPrivate: false, timeoutMs: 10_000, maxBytes: DEFAULT_MAX_BODY_BYTES, maxConcurrent: 4 },
  ...over,
  labelStudio: { run: 'latest', url: LS_URL, apiKey: LS_TOKEN, maxTasks: 100, ...ls },
});

const app = createApp(repo, options());
const post = (a: typeof app, path: string, body: unknown, headers: Record<string, string> = {}) =>
  a.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const json = (r: Response) => r.json() as Promise<Json>;
const getJson = async (path: string): Promise<Json> => {
  const r = await app.request(path);
  expect(r.status, path).toBe(200);
  return json(r);
};
const pngOf = async (i: number) => new Uint8Array(await (await app.request(`/v1/runs/latest/images/${i}/image.png`)).arrayBuffer());
const dataUrl = (png: Uint8Array) => `data:image/png;base64,${Buffer.from(png).toString('base64')}`;

let runId: string;
let pie: { index: number; dense: string };
let nonPie: { index: number; dense: string };
let warn: ReturnType<typeof vi.spyOn>;
let info: ReturnType<typeof vi.spyOn>;

beforeAll(async () => {
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  info = vi.spyOn(console, 'info').mockImplementation(() => {});
  runId = (await getJson('/v1/runs/latest')).runId;
  // A known PIE at p90 (the default scoring level: the most pruned level) and a known non-PIE.
  const queue = await getJson('/v1/runs/latest/review?level=p90&limit=1');
  const pieAnswer = await getJson(`/v1/runs/latest/images/${queue.items[0].index}`);
  pie = { index: queue.items[0].index, dense: pieAnswer.denseModal.name };
  for (let i = 0; !nonPie; i++) {
    const a = await getJson(`/v1/runs/latest/images/${i}`);
    if (!a.pieLevels.includes('p90')) nonPie = { index: i, dense: a.denseModal.name };
  }
  uploads.set(`/data/upload/1/${pie.index}.png`, await pngOf(pie.index));
  uploads.set(`/data/upload/1/${nonPie.index}.png`, await pngOf(nonPie.index));
});
afterAll(() => { warn.mockRestore(); info.mockRestore(); });

describe('health, setup, versions, webhook', () => {
  it('health answers like label_studio_ml/api.py, at /ml/health and /ml/', async () => {
    for (const path of ['/ml/health', '/ml/', '/ml']) {
      const r = await app.request(path);
      expect(r.status, path).toBe(200);
      expect(await json(r)).toEqual({ status: 'UP', model_class: 'PieLens' });
    }
  });

  it('setup checks the labeling config and answers the run id as model_version', async () => {
    const r = await post(app, '/ml/setup', setupBody());
    expect(r.status).toBe(200);
    expect(await json(r)).toEqual({ model_version: runId });
    // label-studio-ml-backend's own tests send a bare project id.
    expect((await post(app, '/ml/setup', { schema: labelConfig(), project: '42' })).status).toBe(200);
  });

  it('setup refuses choices that leave classes out, naming missing and extra, in the reason phrase Label Studio shows', async () => {
    warn.mockClear();
    const r = await post(app, '/ml/setup', setupBody(labelConfig([...CLASSES.slice(1), 'Unsure', 'Cat'])));
    expect(r.status).toBe(400);
    const { error } = await json(r);
    expect(error.code).toBe('choices_mismatch');
    expect(error.message).toMatch(/missing \(classes of run .* with no <Choice>\): "class 0"; extra \(choices that are no class\): "Unsure", "Cat"/);
    // Python requests builds "400 Client Error: <reason phrase> for url: …": the phrase is the message.
    expect(r.statusText).toBe(`choices_mismatch: ${error.message}`);
    expect(r.headers.get('x-pie-reason')).toBe(r.statusText);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toBe(`label-studio: POST /ml/setup → 400 choices_mismatch: ${error.message}`);
    // Extra choices alone are fine (an "Unsure" choice).
    expect((await post(app, '/ml/setup', setupBody(labelConfig([...CLASSES, 'Unsure'])))).status).toBe(200);
  });

  it('PIE_LABEL_STUDIO_CLASS_MAP maps class names to choice values; a map naming nothing is refused', async () => {
    const names = CLASSES.map((_, c) => `Kind ${String.fromCharCode(65 + c)}`);
    const classMap = Object.fromEntries(CLASSES.map((c, i) => [c, names[i]]));
    const mapped = createApp(repo, options({}, { classMap }));
    expect((await post(mapped, '/ml/setup', setupBody(labelConfig(names)))).status).toBe(200);
    const r = await post(mapped, '/ml/predict', predictBody([task(81, { image: dataUrl(await pngOf(pie.index)) })], labelConfig(names)));
    const [p] = (await json(r) as { results: Json[] }).results;
    expect(p.result[0].value.choices).toEqual([names[CLASSES.indexOf(pie.dense)]]);
    const wrong = createApp(repo, options({}, { classMap: { ...classMap, 'no such class': 'Kind A' } }));
    const bad = await post(wrong, '/ml/setup', setupBody(labelConfig(names)));
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.message).toMatch(/PIE_LABEL_STUDIO_CLASS_MAP: "no such class" is not a class/);
    expect(() => optionsFromEnv({ PIE_LABEL_STUDIO_CLASS_MAP: '{"class 0": 3}' })).toThrow(/choice value strings/);
    expect(optionsFromEnv({ PIE_LABEL_STUDIO_CLASS_MAP: '{"class 0": "Zero"}' }).labelStudio.classMap).toEqual({ 'class 0': 'Zero' });
  });

  it('every 4xx on /ml/* puts its reason in the reason phrase and one log line', async () => {
    warn.mockClear();
    const r = await post(app, '/ml/setup', setupBody('<View><Image name="image" value="$image"/><RectangleLabels name="box" toName="image"><Label value="cat"/></RectangleLabels></View>'));
    expect(r.status).toBe(400);
    expect(r.statusText).toMatch(/^bad_label_config: label config has no <Choices> control/);
    const locked = createApp(repo, options({}, { basicAuth: { username: 'ls', password: 's3cret' } }));
    const denied = await locked.request('/ml/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(predictBody([task(1, { image: 'secret-task-data' })])) });
    expect(denied.status).toBe(401);
    expect(denied.statusText).toMatch(/^unauthorized: missing or wrong credentials/);
    const lines = warn.mock.calls.map((c: unknown[]) => String(c[0]));
    expect(lines).toEqual([
      expect.stringMatching(/^label-studio: POST \/ml\/setup → 400 bad_label_config: label config has no <Choices>/),
      expect.stringMatching(/^label-studio: POST \/ml\/predict → 401 unauthorized: /),
    ]);
    expect(lines.join('\n')).not.toMatch(/secret-task-data|RectangleLabels name/);
  });

  it("task images at the API's own /v1/…/image.png are answered from the run, with PIE_API_KEYS on", async () => {
    const keyed = createApp(repo, options({ apiKeys: ['k1'], publicReads: false }));
    const auth = { authorization: `Basic ${btoa('ls:k1')}` };
    seen.length = 0;
    const r = await post(keyed, 'http://pie.test/ml/predict', predictBody([
      task(91, { image: `http://pie.test/v1/runs/${runId}/images/${pie.index}/image.png?scale=8` }),
      task(92, { image: `/v1/runs/latest/images/${nonPie.index}/image.png` }),
      task(93, { image: `http://pie.test/v1/runs/${runId}/images/99999/image.png` }),
    ]), auth);
    expect(r.status).toBe(200);
    const { results, errors } = await json(r) as { results: Json[]; errors: Json[] };
    expect(results[0].pie).toMatchObject({ isPie: true, denseModal: pie.dense });
    expect(results[1].pie).toMatchObject({ isPie: false, denseModal: nonPie.dense });
    expect(results[2]).toEqual([]);
    expect(errors[0]).toMatchObject({ task: 93, message: expect.stringMatching(/no image 99999/) });
    // Nothing was downloaded.
    expect(seen).toEqual([]);
  });

  it('setup refuses a config without <Choices> over an <Image>', async () => {
    const r = await post(app, '/ml/setup', setupBody('<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/></Choices></View>'));
    expect(r.status).toBe(400);
    expect((await json(r)).error).toMatchObject({ code: 'bad_label_config', message: expect.stringMatching(/Image/) });
  });

  it('versions lists the run', async () => {
    expect(await json(await app.request('/ml/versions'))).toEqual({ versions: [runId] });
  });

  it('webhook acknowledges Label Studio events (no training)', async () => {
    const event = {
      action: 'ANNOTATION_CREATED',
      project: { id: 1, title: 'PIE review', label_config: labelConfig() },
      task: task(7, { image: '/data/upload/1/7.png' }),
      annotation: { id: 3, result: [{ from_name: 'label', to_name: 'image', type: 'choices', value: { choices: ['class 3'] } }], task: 7, project: 1 },
    };
    const r = await post(app, '/ml/webhook', event);
    expect(r.status).toBe(200);
    expect(await json(r)).toEqual({ status: 'ok' });
  });

  it('malformed JSON is a 400 JSON error on every POST route', async () => {
    for (const path of ['/ml/predict', '/ml/setup', '/ml/webhook']) {
      const r = await post(app, path, '{"tasks": [');
      expect(r.status, path).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/application\/json/);
      expect(typeof (await json(r)).error.message).toBe('string');
    }
    const r = await post(app, '/ml/predict', { tasks: [task(1, {})] });
    expect(r.status).toBe(400);
    expect((await json(r)).error.message).toMatch(/label_config/);
  });
});

describe('predict', () => {
  it('one prediction per task, in order: the dense modal label as a choice, PIEs scored first', async () => {
    const tasks = [
      task(11, { image: dataUrl(await pngOf(nonPie.index)) }),
      task(12, { image: `/data/upload/1/${pie.index}.png` }),
      task(13, { image: dataUrl(await pngOf(pie.index)), caption: 'same PIE, inline' }),
      task(14, { image: `${LS_URL}/data/upload/1/${nonPie.index}.png` }),
    ];
    const r = await post(app, '/ml/predict', predictBody(tasks));
    expect(r.status).toBe(200);
    const { results } = await json(r) as { results: Json[] };
    expect(results).toHaveLength(4);
    const expected = [nonPie, pie, pie, nonPie];
    results.forEach((p, i) => {
      expect(p.model_version).toBe(runId);
      expect(p.result).toEqual([{ from_name: 'label', to_name: 'image', type: 'choices', value: { choices: [expected[i].dense] }, score: expect.any(Number) }]);
      expect(p.score).toBeGreaterThanOrEqual(0);
      expect(p.score).toBeLessThanOrEqual(1);
      expect(p.pie.scoringLevel).toBe('p90');
      expect(p.pie.denseModal).toBe(expected[i].dense);
    });
    expect(results[1].pie.isPie).toBe(true);
    expect(results[1].pie.pieLevels).toContain('p90');
    expect(results[1].score).toBeGreaterThan(0.5);
    expect(results[0].pie.isPie).toBe(false);
    expect(results[0].score).toBeLessThan(0.5);
    // The same image answers the same whichever way it arrives.
    expect(results[2]).toEqual(results[1]);
    expect(results[3]).toEqual(results[0]);
    // Label Studio sorts by score: the PIEs come first.
    const order = results.map((p, i) => ({ i, s: p.score })).sort((a, b) => b.s - a.s).map((x) => x.i);
    expect(order.slice(0, 2).sort()).toEqual([1, 2]);
  });

  it("sends Label Studio's token to Label Studio only", async () => {
    seen.length = 0;
    const r = await post(app, '/ml/predict', predictBody([
      task(21, { image: `/data/upload/1/${pie.index}.png` }),
      task(22, { image: `https://images.example/cdn/1/${pie.index}.png` }),
    ]));
    const { results } = await json(r) as { results: Json[] };
    expect(results.map((p) => p.pie.isPie)).toEqual([true, true]);
    // Tasks download concurrently: any order.
    expect(seen).toHaveLength(2);
    expect(seen).toEqual(expect.arrayContaining([
      { url: `${LS_URL}/data/upload/1/${pie.index}.png`, authorization: `Token ${LS_TOKEN}` },
      { url: `https://images.example/cdn/1/${pie.index}.png`, authorization: null },
    ]));
  });

  it('a task whose image cannot be had gets no prediction, and the reason; the others are unaffected', async () => {
    warn.mockClear();
    const r = await post(app, '/ml/predict', predictBody([
      task(31, { image: '/data/upload/1/missing.png' }),
      task(32, { image: `/data/upload/1/${pie.index}.png` }),
      task(33, { image: 'data:image/png;base64,bm90IGFuIGltYWdl' }),
      task(34, { image: 'https://unreachable.example/x.png' }),
      task(35, { text: 'no image here' }),
    ]));
    expect(r.status).toBe(200);
    const { results, errors } = await json(r) as { results: Json[]; errors: Json[] };
    expect(results).toHaveLength(5);
    // Label Studio stores nothing for an empty list, so the next retrieve asks again.
    for (const i of [0, 2, 3, 4]) expect(results[i]).toEqual([]);
    expect(errors.map((e) => [e.task, e.code])).toEqual([[31, 'fetch_failed'], [33, 'unsupported_format'], [34, 'fetch_refused'], [35, 'no_image']]);
    // The client gets one generic text for a failed download; the server log gets the status.
    expect(errors[0].message).toBe(FETCH_FAILED_MESSAGE);
    expect(errors[2].message).toMatch(/not an allowed origin/);
    expect(results[1].result[0].value.choices).toEqual([pie.dense]);
    const logged = warn.mock.calls.map((c: unknown[]) => String(c[0]));
    expect(logged.find((l: string) => l.includes('task 31'))).toMatch(/404/);
    expect(logged.at(-1)).toMatch(/4 of 5 tasks without a prediction, retried on the next retrieve/);
  });

  it('a Label Studio path without a configured Label Studio URL is a task error, not a crash', async () => {
    const noUrl = createApp(repo, options({}, { url: undefined }));
    const r = await post(noUrl, '/ml/predict', predictBody([
      task(41, { image: `/data/upload/1/${pie.index}.png` }),
      task(42, { image: dataUrl(await pngOf(pie.index)) }),
    ]));
    expect(r.status).toBe(200);
    const { results, errors } = await json(r) as { results: Json[]; errors: Json[] };
    expect(results[0]).toEqual([]);
    expect(errors).toEqual([{ task: 41, position: 0, code: 'no_label_studio_url', message: expect.stringMatching(/LABEL_STUDIO_URL/) }]);
    expect(results[1].pie.isPie).toBe(true);
  });

  it('maps class names to choices ignoring case or by predicted_values; no match → no result item but still a score', async () => {
    const png = dataUrl(await pngOf(pie.index));
    const upper = CLASSES.map((c) => c.toUpperCase());
    let r = await post(app, '/ml/predict', predictBody([task(51, { image: png })], labelConfig(upper)));
    let [p] = (await json(r) as { results: Json[] }).results;
    expect(p.result[0].value.choices).toEqual([pie.dense.toUpperCase()]);

    const byAlias = labelConfig().replace(`<Choice value="${pie.dense}"/>`, `<Choice value="Flagged" predicted_values="${pie.dense}, nothing"/>`);
    r = await post(app, '/ml/predict', predictBody([task(52, { image: png })], byAlias));
    [p] = (await json(r) as { results: Json[] }).results;
    expect(p.result[0].value.choices).toEqual(['Flagged']);

    // Choices that leave classes out: refused, not stored with an empty result.
    r = await post(app, '/ml/predict', predictBody([task(53, { image: png })], labelConfig(['Cat', 'Dog'])));
    expect(r.status).toBe(400);
    expect((await json(r)).error.code).toBe('choices_mismatch');
  });

  it('finds the image under another key when the config key is absent', async () => {
    const r = await post(app, '/ml/predict', predictBody([task(61, { img: `/data/upload/1/${pie.index}.png` })]));
    const [p] = (await json(r) as { results: Json[] }).results;
    expect(p.result[0].value.choices).toEqual([pie.dense]);
  });
});

describe('auth', () => {
  const basic = (user: string, pass: string) => ({ authorization: `Basic ${btoa(`${user}:${pass}`)}` });

  it('with Basic credentials configured, every route but the webhook requires them', async () => {
    const locked = createApp(repo, options({}, { basicAuth: { username: 'ls', password: 's3cret' } }));
    const r = await locked.request('/ml/health');
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect((await locked.request('/ml/health', { headers: basic('ls', 'wrong') })).status).toBe(401);
    expect((await locked.request('/ml/health', { headers: basic('other', 's3cret') })).status).toBe(401);
    expect((await post(locked, '/ml/setup', setupBody())).status).toBe(401);
    expect((await post(locked, '/ml/predict', predictBody([]))).status).toBe(401);
    expect((await locked.request('/ml/health', { headers: basic('ls', 's3cret') })).status).toBe(200);
    const ok = await post(locked, '/ml/predict', predictBody([task(71, { image: `/data/upload/1/${pie.index}.png` })]), basic('ls', 's3cret'));
    expect(ok.status).toBe(200);
    expect((await json(ok)).results[0].result[0].value.choices).toEqual([pie.dense]);
    // Label Studio's auto-created webhook carries no credentials.
    expect((await post(locked, '/ml/webhook', { action: 'PROJECT_UPDATED', project: { id: 1 } })).status).toBe(200);
  });

  it('with API keys and private reads: a bearer key, or Basic with the key as password', async () => {
    const keyed = createApp(repo, options({ apiKeys: ['k-1'], publicReads: false }));
    expect((await keyed.request('/ml/health')).status).toBe(401);
    expect((await keyed.request('/ml/health', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await keyed.request('/ml/health', { headers: { authorization: 'Bearer k-1' } })).status).toBe(200);
    expect((await keyed.request('/ml/health', { headers: basic('label-studio', 'k-1') })).status).toBe(200);
  });

  it('open when reads are public and no credentials are configured', async () => {
    expect((await app.request('/ml/health')).status).toBe(200);
  });
});

describe('OpenAPI', () => {
  it('documents the /ml routes with Basic auth', async () => {
    const doc = await getJson('/openapi.json');
    for (const p of ['/ml/health', '/ml/setup', '/ml/predict', '/ml/webhook', '/ml/versions']) expect(doc.paths).toHaveProperty([p]);
    expect(doc.components.securitySchemes.labelStudioBasic).toEqual({ type: 'http', scheme: 'basic' });
  });
});

describe('pieces', () => {
  it('reads a labeling config: comments, entities, several objects, toName lists', () => {
    const c = parseLabelConfig(`<?xml version="1.0"?><View>
      <!-- <Choices name="old" toName="image"><Choice value="x"/></Choices> -->
      <Text name="caption" value="$caption"/>
      <Image name="photo" value="$img" />
      <Choices name="tone" toName="caption"><Choice value="Nice"/></Choices>
      <Choices name="cls" toName="caption,photo" hint="a > b">
        <Choice value="T-shirt/top"/><Choice value="Bag &amp; more" predicted_values="bag, purse"/>
        <View><Choice value='Ankle boot'/></View>
      </Choices>
    </View>`);
    expect(c).toEqual({
      fromName: 'cls', toName: 'photo', image: { dataKey: 'img' },
      choices: [
        { value: 'T-shirt/top', predictedValues: [] },
        { value: 'Bag & more', predictedValues: ['bag', 'purse'] },
        { value: 'Ankle boot', predictedValues: [] },
      ],
    });
    expect(() => parseLabelConfig('not xml')).toThrow(/not XML/);
  });

  it('maps class names to choices like build_label_map', () => {
    expect(choiceForClass(['cat', 'Dog', 'bird', 'truck'], [
      { value: 'Cat', predictedValues: [] },
      { value: 'Dog', predictedValues: [] },
      { value: 'Vehicle', predictedValues: ['truck', 'car'] },
    ])).toEqual(['Cat', 'Dog', null, 'Vehicle']);
  });

  it('scores PIEs above 0.5 and everything else below, within 0…1', () => {
    expect(pieScore(true, 0.01)).toBeGreaterThan(pieScore(false, 1.99));
    expect(pieScore(true, 2)).toBe(1);
    expect(pieScore(false, 0)).toBe(0);
    expect(pieScore(true, 1)).toBeGreaterThan(pieScore(true, 0.5));
  });

  it('decodes data: URLs and picks the token header like label-studio-sdk', () => {
    expect([...decodeDataUrl('data:image/png;base64,iVBORw==', 100).bytes]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(() => decodeDataUrl('data:image/png;base64,AAAA', 2)).toThrow(/limit/);
    expect(labelStudioAuthHeader(LS_TOKEN)).toBe(`Token ${LS_TOKEN}`);
    const jwt = `${btoa('{"alg":"HS256","typ":"JWT"}').replace(/=+$/, '')}.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2ln`;
    expect(labelStudioAuthHeader(jwt)).toBe(`Bearer ${jwt}`);
  });
});

describe('fetching task images', () => {
  const b64url = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  const refreshToken = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ token_type: 'refresh', exp: 4102444800 })}.c2ln`;
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
  const opts = (fetchFn: typeof fetch, over: Partial<TaskImageOptions> = {}): TaskImageOptions => ({
    labelStudioUrl: LS_URL, apiKey: LS_TOKEN, fetch: fetchFn, maxBytes: 1000, timeoutMs: 2000,
    policy: { allowedOrigins: [LS_URL, 'https://images.example', 'https://*.s3.example'], allowPrivate: false }, ...over,
  });

  it('exchanges a personal access token for an access token, as label-studio-sdk does', async () => {
    const calls: string[] = [];
    const f: typeof fetch = async (input, init) => {
      const url = String(input);
      calls.push(`${init?.method ?? 'GET'} ${url} ${new Headers(init?.headers).get('authorization') ?? '-'}`);
      if (url === `${LS_URL}/api/token/refresh/`) {
        expect(JSON.parse(String(init?.body))).toEqual({ refresh: refreshToken });
        return Response.json({ access: 'access-jwt' });
      }
      return new Response(png);
    };
    const got = await loadTaskImage('/data/upload/1/a.png', opts(f, { apiKey: refreshToken }));
    expect([...got.bytes]).toEqual([...png]);
    expect(calls).toEqual([
      `POST ${LS_URL}/api/token/refresh/ -`,
      `GET ${LS_URL}/data/upload/1/a.png Bearer access-jwt`,
    ]);
  });

  it('presigns cloud storage URIs through the task and drops the token when redirected elsewhere', async () => {
    const calls: { url: string; auth: string | null }[] = [];
    const f: typeof fetch = async (input, init) => {
      const url = String(input);
      calls.push({ url, auth: new Headers(init?.headers).get('authorization') });
      expect(init?.redirect).toBe('manual');
      if (url.startsWith(`${LS_URL}/tasks/9/presign/`)) return new Response(null, { status: 303, headers: { location: 'https://bucket.s3.example/a.png?X-Amz-Signature=abc' } });
      return new Response(png);
    };
    await loadTaskImage('s3://bucket/a.png', opts(f, { taskId: 9 }));
    expect(calls).toEqual([
      { url: `${LS_URL}/tasks/9/presign/?fileuri=${btoa('s3://bucket/a.png')}`, auth: `Token ${LS_TOKEN}` },
      { url: 'https://bucket.s3.example/a.png?X-Amz-Signature=abc', auth: null },
    ]);
  });

  it('falls back to the storage proxy for uploads Label Studio keeps in cloud storage', async () => {
    const urls: string[] = [];
    const f: typeof fetch = async (input) => {
      urls.push(String(input));
      return String(input).includes('/storage-data/') ? new Response(png) : new Response('gone', { status: 404 });
    };
    await loadTaskImage('upload/1/a.png', opts(f));
    expect(urls).toEqual([`${LS_URL}/data/upload/1/a.png`, `${LS_URL}/storage-data/uploaded/?filepath=upload/1/a.png`]);
  });

  it('stops downloads over the size limit and slower than the timeout', async () => {
    const big: typeof fetch = async () => new Response(new ReadableStream({
      pull(c) { c.enqueue(new Uint8Array(400)); },
    }));
    await expect(loadTaskImage('https://images.example/big.png', opts(big))).rejects.toMatchObject({ code: 'image_too_large' });
    const declared: typeof fetch = async () => new Response('x', { headers: { 'content-length': '5000' } });
    await expect(loadTaskImage('https://images.example/big.png', opts(declared))).rejects.toMatchObject({ code: 'image_too_large' });
    const slow: typeof fetch = (_input, init) => new Promise((_resolve, reject) => {
      init?.signal?.addEventListener('abort', () => reject(init.signal!.reason));
    });
    await expect(loadTaskImage('https://images.example/slow.png', opts(slow, { timeoutMs: 50 }))).rejects.toMatchObject({ code: 'fetch_timeout' });
  });

  it('refuses what it cannot fetch', async () => {
    const never: typeof fetch = async () => { throw new Error('not called'); };
    await expect(loadTaskImage('file:///etc/passwd', opts(never))).rejects.toMatchObject({ code: 'unsupported_url' });
    await expect(loadTaskImage('/data/upload/1/a.png', opts(never, { apiKey: undefined }))).rejects.toMatchObject({ code: 'no_label_studio_token' });
    const toFile: typeof fetch = async () => new Response(null, { status: 302, headers: { location: 'file:///etc/passwd' } });
    await expect(loadTaskImage('https://images.example/a.png', opts(toFile))).rejects.toMatchObject({ code: 'unsupported_url' });
  });
});
