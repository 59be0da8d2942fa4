import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';
import { BadInput } from '../errors.ts';
import { markStale, runCaching } from '../http.ts';
import { ClassesSchema, OverviewSchema, RunParam, errorResponses as errors } from '../schemas.ts';

export const runs = new OpenAPIHono<AppEnv>();

runs.openapi(createRoute({
  method: 'get', path: '/v1/runs', tags: ['runs'], summary: 'Runs in the store, newest pointer first',
  responses: {
    200: { description: 'Run ids; `stale` (and the X-Stale header) when the store is unreachable and the last good list is served', content: { 'application/json': { schema: z.object({ latest: z.string().nullable(), runs: z.array(z.string()), stale: z.string().optional() }) } } },
    401: errors[401],
  },
}), async (c) => {
  const ids = await c.var.repo.runIds();
  let latest: string | null = null;
  try { latest = await c.var.repo.latestId(); } catch { latest = null; }
  markStale(c);
  return c.json({ latest, runs: ids, ...(c.var.repo.stale ? { stale: c.var.repo.stale } : {}) }, 200);
});

runs.openapi(createRoute({
  method: 'get', path: '/v1/runs/{run}', tags: ['runs'], summary: 'Run overview: levels, accuracy, PIE counts, classes impacted',
  request: { params: RunParam },
  responses: {
    200: { description: 'What `pie report` prints, as JSON', content: { 'application/json': { schema: OverviewSchema } } },
    ...errors,
  },
}), async (c) => {
  const { run: requested } = c.req.valid('param');
  const run = await c.var.repo.get(requested);
  const cached = runCaching(c, requested, run);
  if (cached) return cached;
  const m = run.manifest;
  return c.json({
    runId: m.runId, createdAt: m.createdAt,
    dataset: { name: m.dataset.name, testSize: m.dataset.testSize, trainSize: m.dataset.trainSize, numClasses: m.dataset.numClasses, classNames: m.dataset.classNames },
    architecture: m.architecture, engine: m.engine, K: m.K,
    tieRule: run.summary.tieRule, alpha: run.summary.alpha,
    levels: m.levels.map((l, t) => {
      const s = run.summary.levels[t];
      return {
        name: l.name, kind: l.kind, sparsity: l.sparsity, quantization: l.quantization, format: l.format,
        accuracy: s.accuracy, pieCount: s.pieCount, impacted: s.impacted, pieAccuracy: s.pieAccuracy,
      };
    }),
  }, 200);
});

runs.openapi(createRoute({
  method: 'get', path: '/v1/runs/{run}/classes', tags: ['runs'], summary: 'Class-level Welch tests for every level (or one)',
  request: {
    params: RunParam,
    query: z.object({ level: z.string().max(100).optional().openapi({ description: 'only this level', example: 'p90' }) }),
  },
  responses: {
    200: { description: 'Normalized recall change, t, df, p, BH-adjusted p, significance and direction per class', content: { 'application/json': { schema: ClassesSchema } } },
    ...errors,
  },
}), async (c) => {
  const { run: requested } = c.req.valid('param');
  const { level } = c.req.valid('query');
  const run = await c.var.repo.get(requested);
  const indices = level === undefined ? run.manifest.levels.map((_, t) => t) : [run.levelIndex(level)];
  if (!indices.length) throw new BadInput('no levels');
  const cached = runCaching(c, requested, run);
  if (cached) return cached;
  return c.json({
    runId: run.runId,
    alpha: run.summary.alpha,
    levels: indices.map((t) => ({
      level: run.manifest.levels[t].name,
      impacted: run.summary.levels[t].impacted,
      classes: run.summary.levels[t].classes.map((row) => ({
        index: row.classIndex, name: run.manifest.dataset.classNames[row.classIndex] ?? String(row.classIndex),
        normalizedChange: row.normalizedChange, t: row.t, df: row.df, p: row.p, pAdjusted: row.pAdjusted,
        significant: row.significant, significantAdjusted: row.significantAdjusted, direction: row.direction,
        meanRecallDense: row.meanRecallDense, meanRecallLevel: row.meanRecallLevel,
      })),
    })),
  }, 200);
});
