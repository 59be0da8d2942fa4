import type { ImageAnswer } from '../answer.ts';
import type { PredictMembers } from '../context.ts';
import type { FetchPolicy } from '../fetch-policy.ts';
import type { Semaphore } from '../limit.ts';
import type { LoadedRun } from '../runs.ts';
import { ImageError } from '../../lib/image/errors.ts';
import type { ImageLimits } from '../../lib/image/types.ts';
import { inputShapeOf } from '../../lib/manifest.ts';
import { answerForUpload, type PrepareRequest, type UploadPath } from '../upload.ts';
import { choiceForClass, type LabelConfig } from './config.ts';
import { TaskImageError, labelStudioAuthorizer, loadTaskImage, looksLikeImageRef } from './task-image.ts';

/** One region of a prediction, in Label Studio's result format. */
export interface ChoicesResult {
  from_name: string;
  to_name: string;
  type: 'choices';
  value: { choices: string[] };
  /** Fraction of the dense models voting for the choice. */
  score: number;
}

/** The PIE facts behind a prediction (Label Studio keeps only result, score and model_version). */
export interface PieDetails {
  /** Level whose PIE status and taxicab distance make the score. */
  scoringLevel: string;
  isPie: boolean;
  taxicab: number;
  denseModal: string;
  levelModal: string;
  /** Every level at which the image is a PIE. */
  pieLevels: string[];
  levels: { level: string; modal: string; isPie: boolean; taxicab: number }[];
}

/** One prediction for a task, in the shape /predict answers (label_studio/ml/models.py reads result, score, model_version). */
export interface TaskPrediction {
  result: ChoicesResult[];
  score: number;
  model_version: string;
  pie: PieDetails | null;
}

/** A task's outcome: its prediction, or why it has none (its image could not be had). */
export type TaskOutcome = { prediction: TaskPrediction; error: null } | { prediction: null; error: { code: string; message: string } };

export interface LabelStudioTask { id?: string | number; data?: Record<string, unknown> }

export interface PredictTasksOptions {
  labelStudioUrl?: string;
  apiKey?: string;
  fetch: typeof fetch;
  /** Where task images may be fetched from. */
  policy: FetchPolicy;
  /** Decoder and download limits (maxBytes caps each download). */
  limits: ImageLimits & { maxBytes: number };
  timeoutMs: number;
  /** Tasks fetched and predicted at once. */
  concurrency?: number;
  /**
   * Answers a task image without downloading it, or returns null to download it: the API's own
   * image URLs (own-image.ts). Throws TaskImageError if it names an image that does not exist.
   */
  ownImage?: (ref: string) => Promise<ImageAnswer | Uint8Array | null>;
  /** Shared by every request of the instance: downloads in flight at once. */
  fetchSlots?: Semaphore;
  /** How an image is decoded, preprocessed and predicted (Node: the upload worker pool; Workers with level hosts: spread over them); default here. */
  upload?: UploadPath;
  /** Where the detail of each failed download goes (default console.warn). */
  log?: (line: string) => void;
}

/**
 * What a client learns of a download that went out and failed: one text whatever the cause, so
 * that the API cannot be used to tell a closed port from a 404, a timeout or a content type.
 */
export const FETCH_FAILED_MESSAGE = 'the task image could not be fetched (the server log has the reason)';

/**
 * The level that scores tasks: the configured one, else the pruned level with the highest
 * sparsity (where the paper finds the most PIEs), else the last compressed level.
 */
export function scoringLevelIndex(run: LoadedRun, configured?: string): number {
  if (configured) return run.levelIndex(configured);
  const levels = run.manifest.levels;
  let best = -1;
  levels.forEach((l, t) => { if (l.kind === 'pruned' && (best < 0 || l.sparsity > levels[best].sparsity)) best = t; });
  return best >= 0 ? best : Math.max(0, levels.length - 1);
}

/**
 * Label Studio sorts and filters tasks by prediction score, and newer versions reject a
 * prediction whose score is outside 0…1 (label-studio-sdk label_interface/interface.py
 * `_validate_object_logic`, used by label_studio/tasks/serializers.py PredictionSerializer) —
 * so a score of 1 + taxicab would fail the whole batch. Instead the score splits 0…1 in two:
 * a PIE at the scoring level scores 0.5 + taxicab / 4 (above 0.5, up to 1), any other image
 * taxicab / 4 (0 up to, not reaching, 0.5: its modal label did not change, so its vote
 * distributions share that class and are less than 2 apart). Sorting by score descending lists
 * the PIEs first, most changed first, then the images closest to becoming PIEs.
 */
export function pieScore(isPie: boolean, taxicab: number): number {
  const t = Math.min(Math.max(taxicab, 0), 2) / 4;
  return isPie ? 0.5 + t : Math.min(t, 0.4999);
}

export function toTaskPrediction(answer: ImageAnswer, t: number, config: LabelConfig, choiceOf: (string | null)[]): TaskPrediction {
  const level = answer.levels[t];
  const dense = answer.levels[0];
  const choice = choiceOf[answer.denseModal.index];
  return {
    result: choice === null ? [] : [{
      from_name: config.fromName, to_name: config.toName, type: 'choices',
      value: { choices: [choice] }, score: (dense.voteCounts[answer.denseModal.index] ?? 0) / dense.memberPredictions.length,
    }],
    score: pieScore(level.isPie, level.taxicab),
    model_version: answer.runId,
    pie: {
      scoringLevel: level.level, isPie: level.isPie, taxicab: level.taxicab,
      denseModal: answer.denseModal.name, levelModal: level.modal.name,
      pieLevels: answer.pieLevels,
      levels: answer.levels.map((l) => ({ level: l.level, modal: l.modal.name, isPie: l.isPie, taxicab: l.taxicab })),
    },
  };
}

/** The task's image reference: data[<config key>], else the first value that looks like an image URL. */
export function imageRef(task: LabelStudioTask, config: LabelConfig): string {
  if ('url' in config.image) return config.image.url;
  const data = task.data ?? {};
  const v = data[config.image.dataKey];
  if (typeof v === 'string' && v.trim()) return v;
  const found = Object.values(data).find(looksLikeImageRef);
  if (found) return found;
  throw new TaskImageError('no_image', `task${task.id === undefined ? '' : ` ${task.id}`} has no image: data.${config.image.dataKey} is ${v === undefined ? 'missing' : 'not a URL'} and no other data value looks like one`);
}

/**
 * Predicts every task, in order, one outcome each: Label Studio pairs results with tasks by
 * position (label_studio/ml/models.py `_get_predictions_from_ml_backend`). A task whose image
 * cannot be fetched or decoded gets no prediction and the reason, so that Label Studio, which
 * skips tasks that already hold a prediction of the current model version, tries it again on
 * the next retrieve; other failures (a broken run) fail the request.
 */
export async function predictTasks(
  run: LoadedRun,
  tasks: LabelStudioTask[],
  config: LabelConfig,
  scoringLevel: number,
  opts: PredictTasksOptions,
  choiceOf: (string | null)[] = choiceForClass(run.manifest.dataset.classNames, config.choices),
): Promise<TaskOutcome[]> {
  // One token exchange for the whole batch, if the token needs one.
  const authorize = labelStudioAuthorizer(opts);
  const one = async (task: LabelStudioTask): Promise<TaskOutcome> => {
    let fetched = false;
    try {
      const ref = imageRef(task, config);
      const own = await opts.ownImage?.(ref);
      let answer: ImageAnswer;
      if (own && !(own instanceof Uint8Array)) {
        answer = own;
      } else {
        fetched = !own && !/^\s*data:/i.test(ref);
        const load = () => loadTaskImage(ref, {
          labelStudioUrl: opts.labelStudioUrl, apiKey: opts.apiKey, authorize, taskId: task.id,
          fetch: opts.fetch, policy: opts.policy, maxBytes: opts.limits.maxBytes, timeoutMs: opts.timeoutMs,
        });
        const { bytes, contentType } = own ? { bytes: own, contentType: 'image/png' } : await (opts.fetchSlots ? opts.fetchSlots.run(load) : load());
        // The decoder goes by the bytes; the content type only names what it refuses.
        const [height, width, channels] = inputShapeOf(run.manifest);
        const req: PrepareRequest = {
          kind: 'bytes', bytes, contentType, limits: opts.limits, width, height, channels, datasetPolarity: run.manifest.dataset.polarity, polarity: 'auto',
        };
        answer = await answerForUpload(run, req, null, undefined, opts.upload ?? {});
      }
      return { prediction: toTaskPrediction(answer, scoringLevel, config, choiceOf), error: null };
    } catch (err) {
      if (!(err instanceof TaskImageError || err instanceof ImageError)) throw err;
      // A downloaded image's decoding errors would describe the response (HTML, a GIF…): hidden too.
      const hidden = err instanceof TaskImageError ? err.requested : fetched;
      if (hidden) (opts.log ?? console.warn)(`label-studio predict: task ${task.id ?? '?'}: ${err.code}: ${err.message}`);
      const error = hidden ? { code: 'fetch_failed', message: FETCH_FAILED_MESSAGE } : { code: err.code, message: err.message };
      return { prediction: null, error };
    }
  };
  return mapLimit(tasks, opts.concurrency ?? 4, one);
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
