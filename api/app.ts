import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { requireApiKey } from './auth.ts';
import { AnswerCache } from './answer-cache.ts';
import { DEFAULT_ANSWER_CACHE_BYTES, type AppEnv, type AppOptions } from './context.ts';
import { ApiError, errorBody, Overloaded, PayloadTooLarge, toApiError } from './errors.ts';
import { docs } from './routes/docs.ts';
import { health } from './routes/health.ts';
import { images } from './routes/images.ts';
import { predict } from './routes/predict.ts';
import { review } from './routes/review.ts';
import { robustness } from './routes/robustness.ts';
import { study } from './routes/study.ts';
import { runs } from './routes/runs.ts';
import { labelStudio } from './routes/label-studio.ts';
import { labelStudioConfig } from './routes/label-studio-config.ts';
import { web } from './routes/web.ts';
import type { RunRepository } from './runs.ts';
import { validationMessage } from './schemas.ts';

/**
 * The PIE Lens API: one Hono app for Workers and Node. The entry points give it a run
 * repository over their store (R2 or local files) and the options from their environment.
 */
export function createApp(repo: RunRepository, options: AppOptions) {
  const app = new OpenAPIHono<AppEnv>({
    // Request validation failures become the same JSON error shape as everything else — in the
    // route modules mounted below too, which inherit this hook.
    defaultHook: (result, c) => {
      if (!result.success) return c.json(errorBody('bad_input', validationMessage(result.error, result.target)), 400);
    },
  });

  // A damaged run is refused on every request until its cached refusal expires: log it once.
  const logged = new Set<string>();
  app.onError((err, c) => {
    const e = toApiError(err);
    if (e.code === 'corrupt_run') {
      if (!logged.has(e.message) && logged.size < 1000) { logged.add(e.message); console.error(`refused: ${e.message}`); }
    } else if (e instanceof Overloaded) {
      c.header('Retry-After', String(e.retryAfterSeconds));
    } else if (e.status >= 500) console.error(err);
    return c.json(errorBody(e.code, e.message), e.status);
  });
  app.notFound((c) => c.json(errorBody('not_found', `no route ${c.req.method} ${new URL(c.req.url).pathname}`), 404));

  const answers = new AnswerCache(options.answerCacheBytes ?? DEFAULT_ANSWER_CACHE_BYTES);
  app.use('*', (c, next) => {
    c.set('repo', repo);
    c.set('options', options);
    c.set('answers', answers);
    return next();
  });
  if (options.corsOrigins.length) {
    app.use('*', cors({
      origin: options.corsOrigins.includes('*') ? '*' : options.corsOrigins,
      allowHeaders: ['Authorization', 'Content-Type'],
      exposeHeaders: ['ETag', 'X-Run-Id', 'X-Stale'],
      maxAge: 600,
    }));
  }
  const tooLarge = () => new PayloadTooLarge(`request body is over the ${options.maxBodyBytes} byte limit`);
  const limitBody = bodyLimit({ maxSize: options.maxBodyBytes, onError: () => { throw tooLarge(); } });
  // bodyLimit reads `c.req.raw.body`, which on Node makes @hono/node-server build a whole undici
  // Request (AbortController, Headers, a web stream over the socket) per request. So it is not
  // used for GET and HEAD, which carry no body (dataset-image lookups went from 0.31 to 0.38 of
  // the req/s of a bare Hono route returning the same JSON), nor for a body of declared length
  // (Content-Length without Transfer-Encoding: the HTTP parser never delivers more), whose header
  // alone is checked; the body is then read straight off the socket (0.2 ms less per upload).
  app.use('*', (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length !== undefined && /^\d+$/.test(length) && c.req.header('transfer-encoding') === undefined) {
      if (Number(length) > options.maxBodyBytes) throw tooLarge();
      return next();
    }
    return limitBody(c, next);
  });
  app.use('/v1/*', requireApiKey);

  app.route('/', health);
  app.route('/', runs);
  app.route('/', images);
  app.route('/', review);
  app.route('/', robustness);
  app.route('/', study);
  app.route('/', predict);
  app.route('/', labelStudio);
  app.route('/', labelStudioConfig);
  app.route('/', web);

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'PIE Lens API',
      version: '1',
      description: 'Per-image answers on what compressed models forget: Pruning Identified Exemplars (PIEs) across populations of dense, pruned and quantized models.',
    },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.route('/', docs);
  return app;
}

export type App = ReturnType<typeof createApp>;
export { ApiError };
