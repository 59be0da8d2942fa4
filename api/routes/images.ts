import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';
import { NotFound } from '../errors.ts';
import { baseUrl, notModified, queryRecord, runCacheHeaders, runCaching } from '../http.ts';
import { CorruptionQuery, ImageAnswerSchema, RunParam, decimalInt, errorResponses, parseRequestPart } from '../schemas.ts';
import { corruptedImage, corruptedPredictions } from '../robustness.ts';
import { buildAnswer, datasetMemberPredictions } from '../answer.ts';
import { encodePng } from '../../lib/image/index.ts';
import { inputShapeOf } from '../../lib/manifest.ts';
import type { LoadedRun } from '../runs.ts';
import { type ClassArray, classBytesFor, newClassArray } from '../../lib/class-array.ts';

const ImageParams = RunParam.extend({
  index: decimalInt(0).openapi({ param: { name: 'index', in: 'path' }, example: 42, description: 'index into the evaluation set' }),
});

function checkIndex(run: LoadedRun, index: number): void {
  if (index >= run.N) throw new NotFound(`run ${run.runId} has ${run.N} evaluation images (0…${run.N - 1}); there is no image ${index}`);
}

/** Evaluation image `index` of a run as PNG, `scale` times enlarged. */
/** A dataset image as PNG (colour for colour runs), read on its own from the run's image file. */
export async function datasetPng(run: LoadedRun, index: number, scale = 1): Promise<Uint8Array> {
  const [h, w, channels] = inputShapeOf(run.manifest);
  return encodePng(await run.image(index), w, h, scale, channels);
}

/** Image i's members' predictions [levels × K] from a [levels × K × N] matrix. */
function memberColumn(run: LoadedRun, predictions: ClassArray, i: number): ClassArray {
  const out = newClassArray(run.levels * run.K, classBytesFor(run.numClasses));
  for (let m = 0; m < run.levels * run.K; m++) out[m] = predictions[m * run.N + i];
  return out;
}

export const images = new OpenAPIHono<AppEnv>();

const ImageQuery = z.object({ corruption: CorruptionQuery.openapi({ description: "the votes on this corrupted test set (one the run evaluated, e.g. motion_blur-3)" }) });

// Registered for the OpenAPI document; the handler parses with the same schemas itself, synchronously
// (parseRequestPart), where zod-openapi's validator middlewares took more time than the parse.
images.openAPIRegistry.registerPath(createRoute({
  method: 'get', path: '/v1/runs/{run}/images/{index}', tags: ['images'],
  summary: 'A dataset image: votes per level, modal labels, PIE status, taxicab score and class context',
  request: { params: ImageParams, query: ImageQuery },
  responses: {
    200: { description: 'The answer for one evaluation image', content: { 'application/json': { schema: ImageAnswerSchema } } },
    ...errorResponses,
  },
}));
images.get('/v1/runs/:run/images/:index', async (c) => {
  const { run: requested, index } = parseRequestPart(ImageParams, c.req.param(), 'param');
  const { corruption } = parseRequestPart(ImageQuery, queryRecord(c), 'query');
  const run = await c.get('repo').get(requested);
  checkIndex(run, index);
  const answers = c.get('answers');
  const kept = answers.get(run, index, corruption);
  // Only built answers are kept, so a refusal (an unknown corruption) is thrown here every time, before any 304.
  const corrupted = kept !== undefined || corruption === undefined ? null : await corruptedPredictions(run, corruption);
  const headers = runCacheHeaders(c.get('options'), c.get('repo'), requested, run, c.req.url);
  // Responses with a plain header record rather than c.json after c.header: Hono keeps headers in
  // a Headers object then, which @hono/node-server converts back, entry by entry, per response.
  if (notModified(c.req.header('if-none-match'), headers.ETag)) return new Response(null, { status: 304, headers });
  let json = kept;
  if (json === undefined) {
    const png = `${baseUrl(c)}/v1/runs/${encodeURIComponent(run.runId)}/images/${index}/image.png${corruption ? `?corruption=${encodeURIComponent(corruption)}` : ''}`;
    const predictions = corrupted ? memberColumn(run, corrupted, index) : datasetMemberPredictions(run, index);
    json = JSON.stringify(buildAnswer(run, predictions, run.labels[index], { source: 'dataset', index, png, ...(corruption && { corruption }) }));
    answers.set(run, index, corruption, json);
  }
  return new Response(json, { status: 200, headers: { 'Content-Type': 'application/json', ...headers } });
});

images.openapi(createRoute({
  method: 'get', path: '/v1/runs/{run}/images/{index}/image.png', tags: ['images'],
  summary: 'A dataset image as PNG (colour or grayscale, as the run; `scale` enlarges it with nearest-neighbour pixels)',
  request: {
    params: ImageParams,
    query: z.object({
      scale: decimalInt(1, 32).default(1).openapi({ example: 8 }),
      corruption: CorruptionQuery.openapi({ description: 'the image under this corruption, recomputed with the seed the run used' }),
    }),
  },
  responses: {
    200: { description: 'PNG image', content: { 'image/png': { schema: z.string().openapi({ format: 'binary' }) } } },
    ...errorResponses,
  },
}), async (c) => {
  const { run: requested, index } = c.req.valid('param');
  const { scale, corruption } = c.req.valid('query');
  const run = await c.get('repo').get(requested);
  checkIndex(run, index);
  if (corruption !== undefined) {
    const pixels = await corruptedImage(run, index, corruption);
    const cached = runCaching(c, requested, run);
    if (cached) return cached;
    const [h, w, channels] = inputShapeOf(run.manifest);
    return c.body(encodePng(pixels, w, h, scale, channels) as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': 'image/png' });
  }
  const cached = runCaching(c, requested, run);
  if (cached) return cached;
  return c.body((await datasetPng(run, index, scale)) as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': 'image/png' });
});
