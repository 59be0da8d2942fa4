import { z } from '@hono/zod-openapi';
import { BadInput } from './errors.ts';

/** Schemas shared by the routes: request validation and the OpenAPI document come from these. */

export const ErrorSchema = z.object({
  error: z.object({ code: z.string().openapi({ example: 'not_found' }), message: z.string() }),
}).openapi('Error');

/**
 * A whole number in a path or query: decimal digits only. z.coerce.number would also take
 * `0x10`, `+5`, `1e1`, ` 5` or `5.0` — each now a 400 naming the expected form.
 */
export const decimalInt = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.string()
    .regex(/^(0|[1-9][0-9]{0,15})$/, { message: 'expected a decimal integer (digits only: no sign, prefix, exponent or leading zeros)' })
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** What a failed request validation answers (400 bad_input): the part and the field, then zod's message. */
export function validationMessage(error: z.ZodError, target: string): string {
  const issue = error.issues[0];
  const where = issue?.path.join('.') || target;
  return `${target} ${where}: ${issue?.message ?? 'invalid'}`;
}

/**
 * A request part parsed with its schema, synchronously, as zod-openapi's validators do on the
 * other routes (same schemas, same 400): for a hot route whose two async validator middlewares
 * cost more than the parse itself.
 */
export function parseRequestPart<S extends z.ZodType>(schema: S, value: unknown, target: 'param' | 'query'): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new BadInput(validationMessage(result.error, target));
  return result.data;
}

export const RunParam = z.object({
  run: z.string().min(1).max(100).openapi({ param: { name: 'run', in: 'path' }, example: 'latest', description: "a run id, or 'latest'" }),
});

export const ClassRefSchema = z.object({ index: z.number().int(), name: z.string() }).openapi('ClassRef');

const num = z.number().nullable();

export const ClassContextSchema = ClassRefSchema.extend({
  roles: z.array(z.enum(['true', 'dense-modal', 'level-modal'])),
  normalizedChange: num, t: num, df: num, p: num, pAdjusted: num,
  significant: z.boolean(), significantAdjusted: z.boolean(),
  direction: z.enum(['down', 'up', 'none']),
}).openapi('ClassContext');

export const LevelAnswerSchema = z.object({
  level: z.string(),
  kind: z.enum(['dense', 'pruned', 'quantized']),
  sparsity: z.number(),
  voteCounts: z.record(z.string(), z.number().int()).openapi({
    description: "how many of the level's K members voted for each class, only classes with votes (keys are class indices; at most K entries)",
    example: { '3': 27, '7': 3 },
  }),
  memberPredictions: z.array(z.number().int()),
  modal: ClassRefSchema,
  isPie: z.boolean(),
  taxicab: z.number(),
  classContext: z.array(ClassContextSchema),
}).openapi('LevelAnswer');

export const ImageAnswerSchema = z.object({
  runId: z.string(),
  image: z.union([
    z.object({
      source: z.literal('dataset'), index: z.number().int(), png: z.string(),
      corruption: z.string().optional().openapi({ description: 'the corrupted test set the votes are from (name-severity), when asked with ?corruption=' }),
    }),
    z.object({ source: z.literal('upload'), preprocessing: z.unknown() }),
  ]),
  trueLabel: ClassRefSchema.nullable(),
  denseModal: ClassRefSchema,
  pieLevels: z.array(z.string()),
  levels: z.array(LevelAnswerSchema),
}).openapi('ImageAnswer');

const Accuracy = z.object({ mean: z.number(), sd: z.number().nullable(), min: z.number(), max: z.number(), perMember: z.array(z.number()) });

export const OverviewSchema = z.object({
  runId: z.string(),
  createdAt: z.string(),
  dataset: z.object({
    name: z.string(), testSize: z.number(), trainSize: z.number(), numClasses: z.number(), classNames: z.array(z.string()),
    format: z.enum(['idx', 'cifar', 'folder', 'synthetic']),
    inputShape: z.array(z.number().int()).openapi({ description: '[height, width, channels]: channels 3 = colour, 1 = grayscale' }),
    polarity: z.enum(['light-on-dark', 'dark-on-light', 'mixed']).openapi({ description: 'what polarity=auto does to uploads: light-on-dark inverts light-bordered images, dark-on-light dark-bordered ones, mixed never inverts' }),
  }),
  architecture: z.object({ name: z.string(), dims: z.array(z.number()) }),
  engine: z.object({ backend: z.string(), provider: z.string(), tfjsVersion: z.string(), workers: z.number() }),
  K: z.number().int(),
  tieRule: z.string(),
  alpha: z.number(),
  levels: z.array(z.object({
    name: z.string(), kind: z.enum(['dense', 'pruned', 'quantized']), sparsity: z.number(), quantization: z.string().optional(),
    format: z.string(), accuracy: Accuracy, pieCount: z.number().int(),
    impacted: z.object({ down: z.number(), up: z.number(), downAdjusted: z.number(), upAdjusted: z.number() }),
    pieAccuracy: z.object({ densePie: num, denseNonPie: num, levelPie: num, levelNonPie: num }),
  })),
}).openapi('RunOverview');

export const ClassRowSchema = ClassRefSchema.extend({
  normalizedChange: num, t: num, df: num, p: num, pAdjusted: num,
  significant: z.boolean(), significantAdjusted: z.boolean(), direction: z.enum(['down', 'up', 'none']),
  meanRecallDense: num, meanRecallLevel: num,
}).openapi('ClassRow');

export const ClassesSchema = z.object({
  runId: z.string(),
  alpha: z.number(),
  levels: z.array(z.object({
    level: z.string(),
    impacted: z.object({ down: z.number(), up: z.number(), downAdjusted: z.number(), upAdjusted: z.number() }),
    classes: z.array(ClassRowSchema),
  })),
}).openapi('Classes');

export const ReviewItemSchema = z.object({
  index: z.number().int(),
  trueLabel: ClassRefSchema,
  denseModal: ClassRefSchema,
  levelModal: ClassRefSchema,
  taxicab: z.number(),
  denseDisagreement: z.number().openapi({ description: '1 − the largest dense vote fraction: how split the dense population is' }),
  image: z.string(),
  detail: z.string(),
}).openapi('ReviewItem');

export const ReviewPageSchema = z.object({
  runId: z.string(),
  level: z.string(),
  sort: z.enum(['taxicab', 'dense-disagreement', 'index']),
  total: z.number().int(),
  items: z.array(ReviewItemSchema),
  nextCursor: z.string().nullable(),
}).openapi('ReviewPage');

const errorResponse = (description: string) => ({ content: { 'application/json': { schema: ErrorSchema } }, description });
/** The error responses every run route can give. */
export const errorResponses = {
  304: { description: 'Not modified: If-None-Match matched the ETag' },
  400: errorResponse('Bad input: the message names the parameter'),
  401: errorResponse('Missing or invalid API key'),
  404: errorResponse('No such run, level or image'),
} as const;
export const uploadErrorResponses = {
  ...errorResponses,
  413: errorResponse('Body or image too large'),
  415: errorResponse('Unsupported content type or image format'),
  422: errorResponse('The image could not be decoded, or a level asked for is larger than the predictor memory budget (over_memory_budget)'),
} as const;

const Summary = z.object({ mean: z.number(), sd: z.number().nullable(), min: z.number(), max: z.number() });
const nnum = z.number().nullable();

export const RobustnessSchema = z.object({
  runId: z.string(),
  alpha: z.number(),
  tieRule: z.enum(['largest', 'smallest']),
  numImages: z.number().int(),
  membersPerLevel: z.number().int(),
  corruptions: z.array(z.object({ key: z.string(), corruption: z.string(), severity: z.number().int() })),
  levels: z.array(z.object({
    name: z.string(),
    cleanAccuracy: Summary,
    cells: z.array(z.object({
      key: z.string(), corruption: z.string(), severity: z.number().int(),
      accuracy: Summary,
      relative: z.object({ mean: z.number(), sd: nnum }).nullable().openapi({ description: "members' corrupted ÷ clean accuracy" }),
      relativeDiff: nnum.openapi({ description: 'mean relative accuracy − dense mean relative accuracy (negative: more fragile)' }),
      t: nnum, df: nnum, p: nnum, pAdjusted: nnum,
      moreFragile: z.boolean(), moreFragileAdjusted: z.boolean(),
      errorRatio: nnum.openapi({ description: 'population error ÷ dense population error on this set' }),
      survival: z.object({ denseSurvived: z.number().int(), kept: z.number().int(), lost: z.number().int(), share: nnum }),
    })),
    corruptionErrors: z.array(z.object({ corruption: z.string(), severities: z.array(z.number().int()), ce: nnum, relativeCe: nnum })),
    mCE: nnum, relativeMCE: nnum,
    moreFragile: z.number().int(), moreFragileAdjusted: z.number().int(),
  })),
}).openapi('Robustness');

export const SubgroupsSchema = z.object({
  runId: z.string(),
  alpha: z.number(),
  numImages: z.number().int(),
  membersPerLevel: z.number().int(),
  attributes: z.array(z.object({ name: z.string(), values: z.array(z.string()) })),
  subgroups: z.array(z.object({ key: z.string(), attributes: z.record(z.string(), z.string()), size: z.number().int(), share: z.number() })),
  levels: z.array(z.object({
    name: z.string(), pieCount: z.number().int(), overallError: z.number(),
    hurt: z.number().int(), hurtAdjusted: z.number().int(), overIndexed: z.number().int(), overIndexedAdjusted: z.number().int(),
    rows: z.array(z.object({
      key: z.string(), error: Summary, errorChange: z.number(), overallChange: z.number(),
      disparateImpact: nnum.openapi({ description: "subgroup's error change ÷ the whole test set's" }),
      excessChange: z.number(), t: nnum, df: nnum,
      p: nnum.openapi({ description: 'one-sided Welch over members: the subgroup loses more than the test set' }),
      pAdjusted: nnum, hurt: z.boolean(), hurtAdjusted: z.boolean(), pieCount: z.number().int(),
      overIndex: z.object({ ratio: z.number(), low: z.number(), high: z.number() }).nullable().openapi({ description: 'share among PIEs ÷ share of the test set, Clopper–Pearson interval' }),
      overIndexP: nnum, overIndexPAdjusted: nnum, overIndexed: z.boolean(), overIndexedAdjusted: z.boolean(),
    })),
  })),
}).openapi('Subgroups');

export const CorruptionQuery = z.string().max(100).optional().openapi({ example: 'motion_blur-3', description: 'name-severity of a corruption (lib/corrupt)' });
