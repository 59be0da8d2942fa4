import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';
import { NotFound } from '../errors.ts';
import { baseUrl, runCaching } from '../http.ts';
import { ImageAnswerSchema, RunParam, decimalInt, errorResponses } from '../schemas.ts';
import { buildAnswer, datasetMemberPredictions } from '../answer.ts';
import { encodePng } from '../../lib/image/index.ts';
import { inputShapeOf } from '../../lib/manifest.ts';
import type { LoadedRun } from '../runs.ts';

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

export const images = new OpenAPIHono<AppEnv>();

images.openapi(createRoute({
  method: 'get', path: '/v1/runs/{run}/images/{index}', tags: ['images'],
  summary: 'A dataset image: votes per level, modal labels, PIE status, taxicab score and class context',
  request: { params: ImageParams },
  responses: {
    200: { description: 'The answer for one evaluation image', content: { 'application/json': { schema: ImageAnswerSchema } } },
    ...errorResponses,
  },
}), async (c) => {
  const { run: requested, index } = c.req.valid('param');
  const run = await c.var.repo.get(requested);
  checkIndex(run, index);
  const cached = runCaching(c, requested, run);
  if (cached) return cached;
  const png = `${baseUrl(c)}/v1/runs/${encodeURIComponent(run.runId)}/images/${index}/image.png`;
  return c.json(buildAnswer(run, datasetMemberPredictions(run, index), run.labels[index], { source: 'dataset', index, png }), 200);
});

images.openapi(createRoute({
  method: 'get', path: '/v1/runs/{run}/images/{index}/image.png', tags: ['images'],
  summary: 'A dataset image as PNG (colour or grayscale, as the run; `scale` enlarges it with nearest-neighbour pixels)',
  request: {
    params: ImageParams,
    query: z.object({ scale: decimalInt(1, 32).default(1).openapi({ example: 8 }) }),
  },
  responses: {
    200: { description: 'PNG image', content: { 'image/png': { schema: z.string().openapi({ format: 'binary' }) } } },
    ...errorResponses,
  },
}), async (c) => {
  const { run: requested, index } = c.req.valid('param');
  const { scale } = c.req.valid('query');
  const run = await c.var.repo.get(requested);
  checkIndex(run, index);
  const cached = runCaching(c, requested, run);
  if (cached) return cached;
  return c.body((await datasetPng(run, index, scale)) as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': 'image/png' });
});
