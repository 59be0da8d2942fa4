import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';
import { BadInput, UnsupportedMediaType } from '../errors.ts';
import { ImageAnswerSchema, RunParam, decimalInt, uploadErrorResponses } from '../schemas.ts';
import { answerForPrepared, prepareUpload, type PrepareRequest } from '../upload.ts';

const PredictQuery = z.object({
  polarity: z.enum(['auto', 'keep', 'invert']).default('auto').openapi({
    description: 'auto: invert images with a light background (the training images are light objects on black)',
  }),
  label: decimalInt(0, 255).optional().openapi({ description: 'true class, if known: adds it to the class context' }),
});

const binary = { schema: z.string().openapi({ format: 'binary' }) };

export const predict = new OpenAPIHono<AppEnv>();

predict.openapi(createRoute({
  method: 'post', path: '/v1/runs/{run}/predict', tags: ['images'],
  summary: 'A new image, predicted live by every model of every level',
  description: 'Send a PNG or JPEG of any size as the body (image/png, image/jpeg, application/octet-stream), as a multipart form field `image`, or JSON pixels `{"pixels": [...784 values], "scale": "0-255"}`. ' +
    'It is preprocessed like the training data (grayscale, padded to square and resized to 28×28, light-on-dark polarity, /255) and answered in the same shape as a dataset image.',
  request: {
    params: RunParam,
    query: PredictQuery,
    body: {
      // Not `required`: then each body schema is checked only when its content type is sent.
      required: false,
      content: {
        'image/png': binary, 'image/jpeg': binary, 'application/octet-stream': binary,
        // z.any: the value is a File, which the OpenAPI document shows as a binary string.
        'multipart/form-data': { schema: z.object({ image: z.any().openapi({ type: 'string', format: 'binary' }) }) },
        'application/json': { schema: z.object({ pixels: z.array(z.unknown()) }).passthrough().openapi('PixelArray') },
      },
    },
  },
  responses: {
    200: { description: 'The live answer', content: { 'application/json': { schema: ImageAnswerSchema } } },
    ...uploadErrorResponses,
  },
}), async (c) => {
  const { run: requested } = c.req.valid('param');
  const { polarity, label } = c.req.valid('query');
  const run = await c.var.repo.get(requested);
  if (label !== undefined && label >= run.numClasses) throw new BadInput(`label ${label} is not a class of run ${run.runId} (0…${run.numClasses - 1})`);
  const limits = { maxBytes: c.var.options.maxBodyBytes, ...c.var.options.imageLimits };
  const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
  const [height, width] = run.manifest.dataset.imageShape;
  const common = { limits, width, height, polarity };
  let req: PrepareRequest;
  if (type === 'application/json') {
    // Parsed (malformed JSON → 400) and shape-checked by the route's schema; decodePixels checks the rest.
    req = { kind: 'pixels', json: c.req.valid('json'), ...common };
  } else if (type === 'multipart/form-data') {
    let form: Record<string, unknown>;
    try {
      form = await c.req.parseBody({ all: true });
    } catch (err) {
      throw new BadInput(`multipart body could not be parsed: ${(err as Error).message}`, 'malformed_multipart');
    }
    const given = [form.image, form.file].flat().filter((v) => v !== undefined);
    if (given.length > 1) throw new BadInput(`multipart body has ${given.length} image fields ('image'/'file'); send exactly one`, 'several_images');
    const file = given[0];
    if (!(file instanceof File)) throw new BadInput("multipart body needs a file field named 'image'", 'missing_image');
    req = { kind: 'bytes', bytes: new Uint8Array(await file.arrayBuffer()), contentType: file.type, ...common };
  } else if (type === 'image/png' || type === 'image/jpeg' || type === 'application/octet-stream' || type === '') {
    req = { kind: 'bytes', bytes: new Uint8Array(await c.req.arrayBuffer()), contentType: type, ...common };
  } else {
    throw new UnsupportedMediaType(`content type '${type.slice(0, 100)}' is not accepted: send image/png, image/jpeg, multipart/form-data or application/json`);
  }
  c.header('Cache-Control', 'no-store');
  // Off the event loop on Node (a worker pool), inline on Workers.
  const prepared = c.var.options.prepareUpload ? await c.var.options.prepareUpload(req) : prepareUpload(req);
  return c.json(await answerForPrepared(run, prepared, label ?? null), 200);
});
