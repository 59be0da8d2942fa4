/**
 * The paper's human study on the user's run: the Label Studio tasks to import, and the table a
 * finished project's JSON export gives (per category, PIEs vs non-PIEs).
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';
import { baseUrl } from '../http.ts';
import { RunParam, errorResponses } from '../schemas.ts';
import { studyPlan, tallyExport } from '../study.ts';

const ShareSchema = z.object({
  count: z.number().int(), n: z.number().int(), share: z.number().nullable(),
  ci: z.tuple([z.number(), z.number()]).nullable().openapi({ description: 'Wilson score interval' }),
});
const ComparisonSchema = z.object({
  pie: ShareSchema, nonPie: ShareSchema,
  difference: z.number().nullable().openapi({ description: 'share among PIEs − share among non-PIEs' }),
  p: z.number().openapi({ description: 'two-sided Fisher exact test' }),
  significant: z.boolean(),
  direction: z.enum(['pie', 'non-pie', 'none']),
});
export const StudyResultSchema = z.object({
  runId: z.string(), level: z.string(), skippedTasks: z.number().int(),
  pies: z.number().int(), nonPies: z.number().int(), annotations: z.number().int(),
  alpha: z.number(), confidence: z.number(),
  categories: z.array(ComparisonSchema.extend({ id: z.string(), label: z.string() })),
  disagreement: ComparisonSchema.openapi({ description: "images whose annotators' class differs from the dataset label" }),
}).openapi('StudyResult');

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

export const study = new OpenAPIHono<AppEnv>();

study.openapi(createRoute({
  method: 'get', path: '/v1/runs/{run}/study/tasks', tags: ['study'],
  summary: "The study's Label Studio labeling config and tasks: a level's PIEs and as many random non-PIEs (seeded), PIE flag hidden",
  request: {
    params: RunParam,
    query: z.object({
      level: z.string().max(100).openapi({ example: 'p90' }),
      seed: z.coerce.number().int().min(0).default(1),
      maxPies: z.coerce.number().int().min(1).optional(),
      inline: z.enum(['true', 'false']).default('false').transform((v) => v === 'true').openapi({ description: 'images as data: URLs in the tasks (for annotators when reads need a key)' }),
    }),
  },
  responses: {
    200: json(z.object({
      runId: z.string(), level: z.string(), seed: z.number().int(), pies: z.number().int(), nonPies: z.number().int(),
      labelConfig: z.string(),
      tasks: z.array(z.object({ data: z.record(z.string(), z.string()) })),
    }), 'Labeling config and tasks to import'),
    ...errorResponses,
  },
}), async (c) => {
  const { run: requested } = c.req.valid('param');
  const q = c.req.valid('query');
  const run = await c.var.repo.get(requested);
  // The configured public URL, else the origin this (uncached) request came to: task images need absolute URLs.
  return c.json(await studyPlan(run, { ...q, baseUrl: baseUrl(c) || new URL(c.req.url).origin }), 200);
});

study.openapi(createRoute({
  method: 'post', path: '/v1/runs/{run}/study', tags: ['study'],
  summary: "Tally a study's Label Studio JSON export: per category, the share among PIEs vs non-PIEs, Wilson intervals, Fisher exact test",
  request: {
    params: RunParam,
    body: { required: true, content: { 'application/json': { schema: z.array(z.unknown()).openapi({ description: 'Label Studio Export → JSON: an array of tasks with annotations' }) } } },
  },
  responses: { 200: json(StudyResultSchema, 'The study table'), ...errorResponses },
}), async (c) => {
  const { run: requested } = c.req.valid('param');
  const run = await c.var.repo.get(requested);
  return c.json(tallyExport(run, c.req.valid('json')), 200);
});
