import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';
import { runCaching } from '../http.ts';
import { labelConfigFor } from '../label-studio/config.ts';
import { RunParam, errorResponses } from '../schemas.ts';

export const labelStudioConfig = new OpenAPIHono<AppEnv>();

labelStudioConfig.openapi(createRoute({
  method: 'get', path: '/v1/runs/{run}/label-studio-config', tags: ['label-studio'],
  summary: "A Label Studio labeling config with the run's class names (searchable above 20 classes)",
  description: 'Paste into a Label Studio project (Settings → Labeling Interface → Code); tasks keep their image URL in `image`.',
  request: { params: RunParam },
  responses: {
    200: { description: 'Labeling config XML', content: { 'application/xml': { schema: z.string() } } },
    ...errorResponses,
  },
}), async (c) => {
  const { run: requested } = c.req.valid('param');
  const run = await c.var.repo.get(requested);
  const cached = runCaching(c, requested, run);
  if (cached) return cached;
  return c.body(labelConfigFor(run.manifest.dataset.classNames), 200, { 'Content-Type': 'application/xml; charset=utf-8' });
});
