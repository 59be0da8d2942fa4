import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';

export const health = new OpenAPIHono<AppEnv>();

health.openapi(createRoute({
  method: 'get', path: '/health', tags: ['health'], summary: 'Liveness, and whether a run is published (no API key needed)',
  responses: {
    200: {
      description: "Up: `ok`, or `degraded` with the reasons (the store is unreachable and the last good data is served; a run is damaged and refused)",
      content: { 'application/json': { schema: z.object({ status: z.enum(['ok', 'degraded']), latestRun: z.string().nullable(), reasons: z.array(z.string()).optional() }) } },
    },
  },
}), async (c) => {
  let latestRun: string | null = null;
  try { latestRun = await c.var.repo.latestId(); } catch { latestRun = null; }
  c.header('Cache-Control', 'no-store');
  const reasons = c.var.repo.problems();
  return c.json(reasons.length ? { status: 'degraded' as const, latestRun, reasons } : { status: 'ok' as const, latestRun }, 200);
});
