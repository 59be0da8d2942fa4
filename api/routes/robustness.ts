import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';
import { runCaching } from '../http.ts';
import { robustnessOf, subgroupsOf } from '../robustness.ts';
import { RobustnessSchema, RunParam, SubgroupsSchema, errorResponses } from '../schemas.ts';

export const robustness = new OpenAPIHono<AppEnv>();

robustness.openapi(createRoute({
  method: 'get', path: '/v1/runs/{run}/robustness', tags: ['runs'],
  summary: 'Every level on every corrupted test set: accuracy, accuracy relative to clean, Welch test against dense, CE/mCE with dense as baseline, modal-label survival',
  request: { params: RunParam },
  responses: {
    200: { description: 'The robustness analysis', content: { 'application/json': { schema: RobustnessSchema } } },
    ...errorResponses,
  },
}), async (c) => {
  const { run: requested } = c.req.valid('param');
  const run = await c.var.repo.get(requested);
  const summary = await robustnessOf(run);
  const cached = runCaching(c, requested, run);
  if (cached) return cached;
  return c.json({ runId: run.runId, ...summary }, 200);
});

robustness.openapi(createRoute({
  method: 'get', path: '/v1/runs/{run}/subgroups', tags: ['runs'],
  summary: 'Every level and attribute subgroup: error, disparate impact, one-sided Welch test, PIE over-indexing',
  request: { params: RunParam },
  responses: {
    200: { description: 'The subgroup analysis', content: { 'application/json': { schema: SubgroupsSchema } } },
    ...errorResponses,
  },
}), async (c) => {
  const { run: requested } = c.req.valid('param');
  const run = await c.var.repo.get(requested);
  const summary = await subgroupsOf(run);
  const cached = runCaching(c, requested, run);
  if (cached) return cached;
  return c.json({ runId: run.runId, ...summary }, 200);
});
