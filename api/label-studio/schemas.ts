import { z } from '@hono/zod-openapi';

/**
 * Bodies of the Label Studio ML backend protocol. Requests are loose objects: Label Studio sends
 * more than is read here (whole serialized tasks with annotations and predictions, project
 * settings), and adds fields between versions.
 */

const id = z.union([z.number(), z.string()]);

export const LabelStudioTaskSchema = z.looseObject({
  id: id.optional(),
  data: z.record(z.string(), z.unknown()).optional().openapi({ example: { image: '/data/upload/1/5b1e-cat.png' } }),
}).openapi('LabelStudioTask');

/** label_studio/ml/api_connector.py `MLApi._prep_prediction_req`. */
export const PredictRequestSchema = z.looseObject({
  tasks: z.union([z.array(LabelStudioTaskSchema), LabelStudioTaskSchema]),
  label_config: z.string().min(1).openapi({
    example: '<View><Image name="image" value="$image"/><Choices name="label" toName="image"><Choice value="T-shirt/top"/><Choice value="Trouser"/></Choices></View>',
  }),
  project: id.optional().openapi({ example: '1.1700000000', description: '<project id>.<created-at timestamp>' }),
  model_version: z.string().nullish(),
  params: z.looseObject({ login: z.string().nullish(), password: z.string().nullish(), context: z.unknown().optional() }).nullish(),
}).openapi('LabelStudioPredictRequest');

/** label_studio/ml/api_connector.py `MLApi.setup`. */
export const SetupRequestSchema = z.looseObject({
  project: id.optional().openapi({ example: '1.1700000000' }),
  schema: z.string().min(1).openapi({ description: "the project's labeling config (XML)" }),
  hostname: z.string().nullish(),
  access_token: z.string().nullish(),
  model_version: z.string().nullish(),
  extra_params: z.unknown().optional(),
}).openapi('LabelStudioSetupRequest');

/** Label Studio webhook payloads: label_studio/webhooks (action, project, and the object acted on). */
export const WebhookSchema = z.looseObject({
  action: z.string().openapi({ example: 'ANNOTATION_CREATED' }),
}).openapi('LabelStudioWebhook');

const ChoicesResultSchema = z.object({
  from_name: z.string(),
  to_name: z.string(),
  type: z.literal('choices'),
  value: z.object({ choices: z.array(z.string()) }),
  score: z.number().openapi({ description: 'fraction of the dense models voting for this choice' }),
});

const PieDetailsSchema = z.object({
  scoringLevel: z.string(),
  isPie: z.boolean(),
  taxicab: z.number(),
  denseModal: z.string(),
  levelModal: z.string(),
  pieLevels: z.array(z.string()),
  levels: z.array(z.object({ level: z.string(), modal: z.string(), isPie: z.boolean(), taxicab: z.number() })),
}).openapi('LabelStudioPieDetails');

export const PredictionSchema = z.object({
  result: z.array(ChoicesResultSchema).openapi({ description: "the dense population's modal label as a choice; empty if no choice matches it" }),
  score: z.number().min(0).max(1).openapi({
    description: 'PIE at the scoring level: 0.5 + taxicab/4 (0.5…1]; otherwise taxicab/4 [0…0.5). Sort descending: PIEs first.',
  }),
  model_version: z.string().openapi({ description: 'the id of the run that answered' }),
  pie: PieDetailsSchema.nullable().openapi({ description: 'PIE details (Label Studio keeps only result, score and model_version)' }),
}).openapi('LabelStudioPrediction');

export const PredictResponseSchema = z.object({
  results: z.array(z.union([PredictionSchema, z.array(z.unknown()).max(0).openapi({ description: 'no prediction for this task' })])).openapi({
    description: 'One entry per task, in task order: a prediction, or [] (no prediction) for a task whose image could not be had, so that the next retrieve tries it again',
  }),
  errors: z.array(z.object({ task: z.union([z.number(), z.string()]).nullable(), position: z.number().int(), code: z.string(), message: z.string() }))
    .openapi({ description: 'Why the tasks answered with [] have no prediction (Label Studio ignores this field)' }),
}).openapi('LabelStudioPredictResponse');
