import { buildAnswer, liveMemberPredictions, type ImageAnswer } from './answer.ts';
import { decodeImage, fromPixelArray, toModelInput, type DecodedImage, type ImageLimits } from '../lib/image/index.ts';
import { inputShapeOf } from '../lib/manifest.ts';
import type { LoadedRun } from './runs.ts';

export type Polarity = 'auto' | 'keep' | 'invert';

/**
 * A new image → the same answer shape as a dataset image: preprocess it the way the training
 * data was (lib/image: colour or grayscale as the run is, resized to its input shape, polarity, /255), then run every member of every level
 * live with the lib/ kernels.
 */
export async function answerForImage(
  run: LoadedRun,
  image: DecodedImage,
  opts: { polarity?: Polarity; trueLabel?: number | null } = {},
): Promise<ImageAnswer> {
  const [h, w, channels] = inputShapeOf(run.manifest);
  const prepared = toModelInput(image, {
    polarity: opts.polarity ?? 'auto', datasetPolarity: run.manifest.dataset.polarity, width: w, height: h, channels,
  });
  const preds = await liveMemberPredictions(run, prepared.input);
  return buildAnswer(run, preds, opts.trueLabel ?? null, {
    source: 'upload',
    preprocessing: { format: image.format, ...prepared.steps },
  });
}

/** Whether a run's models take colour (RGB) input. */
export function isColorRun(run: LoadedRun): boolean {
  return inputShapeOf(run.manifest)[2] === 3;
}

/** Decodes an uploaded file; `color` (a colour run's, see isColorRun) keeps its RGB. */
export function decodeUpload(bytes: Uint8Array, contentType: string | undefined, limits?: ImageLimits, color = false): DecodedImage {
  return decodeImage(bytes, contentType, limits, { color });
}

export function decodePixels(json: unknown, limits?: ImageLimits): DecodedImage {
  return fromPixelArray(json, limits);
}
