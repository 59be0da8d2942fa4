import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';

export const health = new OpenAPIHono<AppEnv>();

health.openapi(createRoute({
  method: 'get', path: '/health', tags: ['health'], summary: 'Liveness, and whether a run is published (no API key needed)',
  responses: {
    200: { description: 'Up', content: { 'application/json': { schema: z.object({ status: z.literal('ok'), latestRun: z.string().nullable() }) } } },
  },
}), async (c) => {
  let latestRun: string | null = null;
  try { latestRun = await c.var.repo.latestId(); } catch { latestRun = null; }
  c.header('Cache-Control', 'no-store');
  return c.json({ status: 'ok' as const, latestRun }, 200);
});
