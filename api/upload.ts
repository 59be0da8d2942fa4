import { buildAnswer, liveMemberPredictions, type ImageAnswer } from './answer.ts';
import { decodeImage, fromPixelArray, toModelInput, type DecodedImage, type ImageLimits } from './image/index.ts';
import type { LoadedRun } from './runs.ts';

export type Polarity = 'auto' | 'keep' | 'invert';

/**
 * A new image → the same answer shape as a dataset image: preprocess it the way the training
 * data was (api/image: grayscale, 28×28, polarity, /255), then run every member of every level
 * live with the lib/ kernels.
 */
export async function answerForImage(
  run: LoadedRun,
  image: DecodedImage,
  opts: { polarity?: Polarity; trueLabel?: number | null } = {},
): Promise<ImageAnswer> {
  const [h, w] = run.manifest.dataset.imageShape;
  const prepared = toModelInput(image, { polarity: opts.polarity ?? 'auto', width: w, height: h });
  const preds = await liveMemberPredictions(run, prepared.input);
  return buildAnswer(run, preds, opts.trueLabel ?? null, {
    source: 'upload',
    preprocessing: { format: image.format, ...prepared.steps },
  });
}

export function decodeUpload(bytes: Uint8Array, contentType: string | undefined, limits?: ImageLimits): DecodedImage {
  return decodeImage(bytes, contentType, limits);
}

export function decodePixels(json: unknown, limits?: ImageLimits): DecodedImage {
  return fromPixelArray(json, limits);
}

/** What to decode and preprocess for a live prediction: bytes (PNG/JPEG) or a JSON pixel array. */
export type PrepareRequest = ({ kind: 'bytes'; bytes: Uint8Array; contentType?: string } | { kind: 'pixels'; json: unknown }) & {
  limits?: ImageLimits;
  /** The run's image size. */
  width: number;
  height: number;
  polarity: Polarity;
};

/** The model input of an upload, and what preprocessing did (for the answer). */
export interface Prepared { input: Float32Array; preprocessing: Record<string, unknown> }

/**
 * Decodes and preprocesses an upload: the CPU-heavy half of a live prediction. Runtime-neutral;
 * on Node it runs in a worker thread (api/upload-pool.ts), on Workers inline.
 */
export function prepareUpload(req: PrepareRequest): Prepared {
  const image = req.kind === 'bytes' ? decodeImage(req.bytes, req.contentType, req.limits) : fromPixelArray(req.json, req.limits);
  const prepared = toModelInput(image, { polarity: req.polarity, width: req.width, height: req.height });
  return { input: prepared.input, preprocessing: { format: image.format, ...prepared.steps } };
}

/** Every member of every level on a prepared upload. */
export async function answerForPrepared(run: LoadedRun, prepared: Prepared, trueLabel: number | null): Promise<ImageAnswer> {
  const preds = await liveMemberPredictions(run, prepared.input);
  return buildAnswer(run, preds, trueLabel, { source: 'upload', preprocessing: prepared.preprocessing });
}
