import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';
import { BadInput } from '../errors.ts';
import { baseUrl, runCaching } from '../http.ts';
import { ReviewPageSchema, RunParam, decimalInt, errorResponses } from '../schemas.ts';
import { classRef } from '../answer.ts';
import { subgroupFilter } from '../robustness.ts';

const classParam = (what: string) => decimalInt(0, 65535).optional().openapi({ description: what });

const ReviewQuery = z.object({
  level: z.string().max(100).openapi({ example: 'p90', description: 'compressed level whose PIEs to list' }),
  trueClass: classParam('only images of this true class'),
  denseModal: classParam("only images whose dense modal label is this class"),
  levelModal: classParam("only images whose modal label at the level is this class"),
  subgroup: z.string().max(200).optional().openapi({ example: 'group=a', description: "only images of this attribute subgroup (attribute=value, or two joined by &; runs made with --attributes)" }),
  sort: z.enum(['taxicab', 'dense-disagreement', 'index']).default('taxicab').openapi({
    description: 'taxicab: most changed vote distribution first; dense-disagreement: most split dense population first',
  }),
  limit: decimalInt(1, 500).default(50),
  cursor: z.string().max(200).optional().openapi({ description: 'nextCursor of the previous page' }),
});

/** Opaque cursor: the offset into the sorted, filtered list, tied to the query it came from. */
function encodeCursor(offset: number, fingerprint: string): string {
  return btoa(JSON.stringify({ o: offset, f: fingerprint })).replace(/=+$/, '');
}
function decodeCursor(cursor: string, fingerprint: string): number {
  try {
    const { o, f } = JSON.parse(atob(cursor)) as { o: unknown; f: unknown };
    if (typeof o === 'number' && Number.isInteger(o) && o >= 0 && f === fingerprint) return o;
  } catch { /* fall through */ }
  throw new BadInput('cursor is not valid for this query (pass back nextCursor unchanged, with the same filters)', 'bad_cursor');
}

export const review = new OpenAPIHono<AppEnv>();

review.openapi(createRoute({
  method: 'get', path: '/v1/runs/{run}/review', tags: ['review'],
  summary: "A level's PIEs, most useful first: the queue a labeling tool pulls",
  request: { params: RunParam, query: ReviewQuery },
  responses: {
    200: { description: 'One page of PIEs', content: { 'application/json': { schema: ReviewPageSchema } } },
    ...errorResponses,
  },
}), async (c) => {
  const { run: requested } = c.req.valid('param');
  const q = c.req.valid('query');
  const run = await c.var.repo.get(requested);
  const t = run.levelIndex(q.level);
  const cached = runCaching(c, requested, run);
  if (cached) return cached;
  const { N, K, numClasses } = run;
  const fingerprint = `${run.runId}|${q.level}|${q.trueClass}|${q.denseModal}|${q.levelModal}|${q.sort}|${q.subgroup ?? ''}`;
  const inSubgroup = q.subgroup === undefined ? null : await subgroupFilter(run, q.subgroup);
  const offset = q.cursor ? decodeCursor(q.cursor, fingerprint) : 0;

  for (const [name, c2] of [['trueClass', q.trueClass], ['denseModal', q.denseModal], ['levelModal', q.levelModal]] as const) {
    if (c2 !== undefined && c2 >= numClasses) throw new BadInput(`${name} ${c2} is not a class of run ${run.runId} (classes 0…${numClasses - 1})`);
  }
  // The dense modal label's share of the dense votes, from the stored modal vote counts.
  const denseDisagreement = (i: number) => 1 - run.modalVotes[i] / K;
  const ids: number[] = [];
  for (let i = 0; i < N; i++) {
    if (!run.isPie[t * N + i]) continue;
    if (q.trueClass !== undefined && run.labels[i] !== q.trueClass) continue;
    if (q.denseModal !== undefined && run.modal[i] !== q.denseModal) continue;
    if (q.levelModal !== undefined && run.modal[t * N + i] !== q.levelModal) continue;
    if (inSubgroup && !inSubgroup(i)) continue;
    ids.push(i);
  }
  // Highest score first; the image index breaks ties so pages are stable. Scores are computed
  // once per image, not per comparison.
  if (q.sort !== 'index') {
    const score = new Map(ids.map((i) => [i, q.sort === 'taxicab' ? run.taxicab[t * N + i] : denseDisagreement(i)]));
    ids.sort((a, b) => score.get(b)! - score.get(a)! || a - b);
  }
  const page = ids.slice(offset, offset + q.limit);
  const base = `${baseUrl(c)}/v1/runs/${encodeURIComponent(run.runId)}/images`;
  return c.json({
    runId: run.runId, level: q.level, sort: q.sort, total: ids.length,
    items: page.map((i) => ({
      index: i,
      trueLabel: classRef(run, run.labels[i]),
      denseModal: classRef(run, run.modal[i]),
      levelModal: classRef(run, run.modal[t * N + i]),
      taxicab: run.taxicab[t * N + i],
      denseDisagreement: denseDisagreement(i),
      image: `${base}/${i}/image.png`,
      detail: `${base}/${i}`,
    })),
    nextCursor: offset + q.limit < ids.length ? encodeCursor(offset + q.limit, fingerprint) : null,
  }, 200);
});
