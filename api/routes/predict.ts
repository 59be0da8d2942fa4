import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';
import { BadInput, UnsupportedMediaType } from '../errors.ts';
import { ImageAnswerSchema, RunParam, uploadErrorResponses } from '../schemas.ts';
import { answerForImage, decodePixels, decodeUpload, isColorRun } from '../upload.ts';

const PredictQuery = z.object({
  polarity: z.enum(['auto', 'keep', 'invert']).default('auto').openapi({
    description: "auto: invert an image whose border disagrees with the run's dataset polarity (manifest dataset.polarity: light-on-dark datasets such as Fashion-MNIST invert light-bordered uploads; mixed ones, such as photos, never invert)",
  }),
  label: z.coerce.number().int().min(0).max(255).optional().openapi({ description: 'true class, if known: adds it to the class context' }),
});

const binary = { schema: z.string().openapi({ format: 'binary' }) };

export const predict = new OpenAPIHono<AppEnv>();

predict.openapi(createRoute({
  method: 'post', path: '/v1/runs/{run}/predict', tags: ['images'],
  summary: 'A new image, predicted live by every model of every level',
  description: 'Send a PNG or JPEG of any size as the body (image/png, image/jpeg, application/octet-stream), as a multipart form field `image`, or JSON pixels `{"pixels": [...784 values], "scale": "0-255"}`. ' +
    'It is preprocessed like the training data (colour or grayscale as the run is, padded to the run\'s aspect and resized to its input shape, polarity as the dataset\'s, /255) and answered in the same shape as a dataset image.',
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
  let image;
  if (type === 'application/json') {
    // Parsed (malformed JSON → 400) and shape-checked by the route's schema; decodePixels checks the rest.
    image = decodePixels(c.req.valid('json'), limits);
  } else if (type === 'multipart/form-data') {
    let form: Record<string, unknown>;
    try {
      form = await c.req.parseBody();
    } catch (err) {
      throw new BadInput(`multipart body could not be parsed: ${(err as Error).message}`, 'malformed_multipart');
    }
    const file = form.image ?? form.file;
    if (!(file instanceof File)) throw new BadInput("multipart body needs a file field named 'image'", 'missing_image');
    image = decodeUpload(new Uint8Array(await file.arrayBuffer()), file.type, limits, isColorRun(run));
  } else if (type === 'image/png' || type === 'image/jpeg' || type === 'application/octet-stream' || type === '') {
    image = decodeUpload(new Uint8Array(await c.req.arrayBuffer()), type, limits, isColorRun(run));
  } else {
    throw new UnsupportedMediaType(`content type '${type.slice(0, 100)}' is not accepted: send image/png, image/jpeg, multipart/form-data or application/json`);
  }
  c.header('Cache-Control', 'no-store');
  return c.json(await answerForImage(run, image, { polarity, trueLabel: label ?? null }), 200);
});
