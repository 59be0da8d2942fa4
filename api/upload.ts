import { buildAnswer, liveMemberPredictions, type ImageAnswer } from './answer.ts';
import { decodeImage, fromPixelArray, toModelInput, type DecodedImage, type ImageLimits } from '../lib/image/index.ts';
import { inputShapeOf, type Manifest } from '../lib/manifest.ts';
import type { LiveUpload, PredictMembers } from './context.ts';
import type { LoadedRun } from './runs.ts';

export type Polarity = 'auto' | 'keep' | 'invert';

/** Whether a run's models take colour (RGB) input. */
export function isColorRun(run: LoadedRun): boolean {
  return inputShapeOf(run.manifest)[2] === 3;
}

/** Decodes an uploaded file; `color` (a colour run's, see isColorRun) keeps its RGB. */
export function decodeUpload(bytes: Uint8Array, contentType: string | undefined, limits?: ImageLimits, color = false): DecodedImage {
  return decodeImage(bytes, contentType, limits, { color });
}

/** Reads a JSON pixel body; `color` (a colour run's) keeps the RGB of colour pixels. */
export function decodePixels(json: unknown, limits?: ImageLimits, color = false): DecodedImage {
  return fromPixelArray(json, limits, { color });
}

/** What to decode and preprocess for a live prediction: bytes (PNG/JPEG) or a JSON pixel array. */
export type PrepareRequest = ({ kind: 'bytes'; bytes: Uint8Array; contentType?: string } | { kind: 'pixels'; json: unknown }) & {
  limits?: ImageLimits;
  /** The run's input shape. */
  width: number;
  height: number;
  channels: 1 | 3;
  /** The dataset's polarity (manifest): what `auto` inverts towards. */
  datasetPolarity: Manifest['dataset']['polarity'];
  polarity: Polarity;
};

/** The model input of an upload, and what preprocessing did (for the answer). */
export interface Prepared { input: Float32Array; preprocessing: Record<string, unknown> }

/**
 * Decodes and preprocesses an upload: the CPU-heavy half of a live prediction. Runtime-neutral;
 * on Node it runs in a worker thread (api/upload-pool.ts), on Workers inline.
 */
export function prepareUpload(req: PrepareRequest): Prepared {
  const image = req.kind === 'bytes' ? decodeImage(req.bytes, req.contentType, req.limits, { color: req.channels === 3 }) : fromPixelArray(req.json, req.limits, { color: req.channels === 3 });
  const prepared = toModelInput(image, {
    polarity: req.polarity, datasetPolarity: req.datasetPolarity, width: req.width, height: req.height, channels: req.channels,
  });
  return { input: prepared.input, preprocessing: { format: image.format, ...(image.dctScale ? { dctScale: image.dctScale } : {}), ...prepared.steps } };
}

/** How an upload is prepared and predicted: in one step (`live`), or `prepare` then `predict` (each default: here). */
export interface UploadPath { live?: LiveUpload; prepare?: (req: PrepareRequest) => Promise<Prepared>; predict?: PredictMembers }

/** The answer for an upload: every member of every level (or of `levels`), prepared and predicted along `path`. */
export async function answerForUpload(run: LoadedRun, req: PrepareRequest, trueLabel: number | null, levels: readonly number[] | undefined, path: UploadPath): Promise<ImageAnswer> {
  const { prepared, predictions } = path.live ? await path.live(run, req, levels) : await prepareThenPredict(run, req, levels, path);
  return buildAnswer(run, predictions, trueLabel, { source: 'upload', preprocessing: prepared.preprocessing }, levels);
}

async function prepareThenPredict(run: LoadedRun, req: PrepareRequest, levels: readonly number[] | undefined, path: UploadPath) {
  const prepared = path.prepare ? await path.prepare(req) : prepareUpload(req);
  return { prepared, predictions: await (path.predict ?? liveMemberPredictions)(run, prepared.input, levels) };
}
