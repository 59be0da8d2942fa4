import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { checkPixelBodySize } from '../../lib/image/index.ts';
import { inputShapeOf } from '../../lib/manifest.ts';
import { wasmKernels } from '../../lib/model/wasm/runtime.ts';
import type { AppEnv, PredictMembers } from '../context.ts';
import type { LevelHostFigures } from '../level-hosts.ts';
import { BadInput, UnsupportedMediaType } from '../errors.ts';
import { ImageAnswerSchema, RunParam, decimalInt, uploadErrorResponses } from '../schemas.ts';
import { answerForUpload, type PrepareRequest } from '../upload.ts';

const PredictQuery = z.object({
  polarity: z.enum(['auto', 'keep', 'invert']).default('auto').openapi({
    description: "auto: invert an image whose border disagrees with the run's dataset polarity (manifest dataset.polarity: light-on-dark datasets such as Fashion-MNIST invert light-bordered uploads; mixed ones, such as photos, never invert)",
  }),
  label: decimalInt(0, 65535).optional().openapi({ description: 'true class, if known: adds it to the class context' }),
  levels: z.string().max(2000).optional().openapi({
    description: 'comma-separated level names to predict (default: all); the dense level is always included, as every PIE decision compares against it',
    example: 'dense,p90',
  }),
});

const binary = { schema: z.string().openapi({ format: 'binary' }) };

export const predict = new OpenAPIHono<AppEnv>();

predict.openapi(createRoute({
  method: 'post', path: '/v1/runs/{run}/predict', tags: ['images'],
  summary: 'A new image, predicted live by every model of every level (or of the levels asked for)',
  description: 'Send a PNG or JPEG of any size as the body (image/png, image/jpeg, application/octet-stream), as a multipart form field `image`, or JSON pixels `{"pixels": [...784 values], "scale": "0-255"}` (colour: `[height][width][3]` nested, or flat with `"channels": 3` and width/height). ' +
    'It is preprocessed like the training data (colour or grayscale as the run is, padded to the run\'s aspect and resized to its input shape, polarity as the dataset\'s, /255) and answered in the same shape as a dataset image.',
  // Before the body schema parses JSON: a pixel body's parsed size is bounded from its byte count.
  middleware: [async (c, next) => {
    if ((c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase() === 'application/json') {
      checkPixelBodySize((await c.req.arrayBuffer()).byteLength, c.var.options.imageLimits);
    }
    await next();
  }] as const,
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
        // Fields beyond `pixels` are typed for the document only: lib/image/pixels.ts checks them, with messages naming the problem.
        'application/json': {
          schema: z.object({
            pixels: z.array(z.unknown()).openapi({ description: 'flat row-major values; or one array per row; or, in colour, one [r, g, b] per pixel ([height][width][3])' }),
            width: z.unknown().optional().openapi({ type: 'integer', description: 'with height: the size of a flat array (default 28×28)' }),
            height: z.unknown().optional().openapi({ type: 'integer' }),
            channels: z.unknown().optional().openapi({ type: 'integer', enum: [1, 3], description: '3: a flat array holds width × height × 3 values, RGB interleaved (default 1)' }),
            scale: z.unknown().optional().openapi({ type: 'string', enum: ['0-255', '0-1'], description: 'default: 0-1 when every value is ≤ 1, else 0-255' }),
          }).passthrough().openapi('PixelArray', { example: { pixels: [[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [255, 255, 255]]], scale: '0-255' } }),
        },
      },
    },
  },
  responses: {
    200: {
      description: 'The live answer',
      headers: z.object({
        'X-PIE-Level-Hosts': z.string().optional().openapi({
          description: 'On Workers, when the levels were spread over level hosts: JSON, one entry per host invocation (host, isolate, levels, levels read from R2, what its predictor cache holds, budget, WebAssembly memory)',
        }),
      }),
      content: { 'application/json': { schema: ImageAnswerSchema } },
    },
    ...uploadErrorResponses,
  },
}), async (c) => {
  const { run: requested } = c.req.valid('param');
  const { polarity, label, levels: levelNames } = c.req.valid('query');
  const run = await c.var.repo.get(requested);
  // Levels by name (404 for an unknown one), dense first, each once.
  const levels = levelNames === undefined ? undefined
    : [...new Set([0, ...levelNames.split(',').map((s) => s.trim()).filter(Boolean).map((name) => run.levelIndex(name))])].sort((a, b) => a - b);
  if (label !== undefined && label >= run.numClasses) throw new BadInput(`label ${label} is not a class of run ${run.runId} (0…${run.numClasses - 1})`);
  const limits = { maxBytes: c.var.options.maxBodyBytes, ...c.var.options.imageLimits };
  const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
  const [height, width, channels] = inputShapeOf(run.manifest);
  const common = { limits, width, height, channels, datasetPolarity: run.manifest.dataset.polarity, polarity };
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
  // Decoding and prediction off the event loop on Node (a worker pool), inline on Workers.
  const { liveUpload: live, prepareUpload: prepare, predictMembers } = c.var.options;
  let hosts: LevelHostFigures[] = [];
  const noted: PredictMembers | undefined = predictMembers && ((r, x, l) => predictMembers(r, x, l, (f: LevelHostFigures[]) => { hosts = f; }));
  const answer = await answerForUpload(run, req, label ?? null, levels, { live, prepare, predict: noted });
  c.header('X-PIE-Kernels', wasmKernels() ? 'wasm' : 'js');
  // What each level host held, when the levels were spread over hosts (ASCII JSON: header values are bytes).
  if (hosts.length) c.header('X-PIE-Level-Hosts', JSON.stringify(hosts).replace(/[^\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return c.json(answer, 200);
});
