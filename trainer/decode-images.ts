/**
 * What a worker thread does with image-folder files: read their headers (size, colour), or
 * decode and preprocess them with lib/image — the same code the API runs on uploads — straight
 * into a shared output array. One file is in memory at a time per worker.
 */
import { readFileSync } from 'node:fs';
import { decodeImage, isJpeg, isPng, toModelInput, type ImageLimits } from '../lib/image/index.ts';
import { readJpegHeader } from '../lib/image/jpeg.ts';
import { isColorPng, pngDctScaleOf, readPngHeader } from '../lib/image/png.ts';
import { resolveLimits } from '../lib/image/types.ts';

/** Dataset files may be larger than the API's 8 MiB uploads; sizes keep the API's limits. */
export const DATASET_IMAGE_LIMITS: ImageLimits = { maxBytes: 256 * 1024 * 1024 };

export interface ProbeResult {
  /**
   * Upright size as decoded (after EXIF orientation; a large JPEG or PNG decodes at 1/8 scale,
   * see lib/image/jpeg.ts), or 0 with `error` when the file is not a readable image.
   */
  width: number;
  height: number;
  color: boolean;
  error?: string;
}

/** Header only: size and whether the file holds colour. */
export function probeImage(path: string): ProbeResult {
  try {
    const bytes = readFileSync(path);
    const limits = resolveLimits(DATASET_IMAGE_LIMITS);
    if (isPng(bytes)) {
      const h = readPngHeader(bytes);
      const s = pngDctScaleOf(h, bytes.length);
      return { width: Math.ceil(h.width / s), height: Math.ceil(h.height / s), color: isColorPng(h) };
    }
    if (isJpeg(bytes)) {
      const h = readJpegHeader(bytes, limits);
      const swap = h.orientation >= 5;
      const w = Math.ceil(h.width / h.dctScale), ht = Math.ceil(h.height / h.dctScale);
      return { width: swap ? ht : w, height: swap ? w : ht, color: h.sampling.length >= 3 };
    }
    // Not PNG or JPEG: let the decoder name what it is.
    decodeImage(bytes, undefined, DATASET_IMAGE_LIMITS);
    return { width: 0, height: 0, color: false, error: 'not a PNG or JPEG image' };
  } catch (err) {
    return { width: 0, height: 0, color: false, error: (err as Error).message };
  }
}

export interface DecodeJob {
  files: string[];
  /** Index in `out` of the first file's image. */
  first: number;
  /** uint8 [n × height × width × channels] in a SharedArrayBuffer. */
  out: Uint8Array;
  height: number;
  width: number;
  channels: 1 | 3;
}

export interface DecodeResult {
  /** Ring mean of each file's luminance (NaN for a failed file). */
  ringMeans: Float64Array;
  failures: { index: number; reason: string }[];
}

export function decodeFiles(job: DecodeJob): DecodeResult {
  const { files, first, out, height, width, channels } = job;
  const px = height * width * channels;
  const ringMeans = new Float64Array(files.length).fill(Number.NaN);
  const failures: DecodeResult['failures'] = [];
  files.forEach((path, j) => {
    try {
      const img = decodeImage(readFileSync(path), undefined, DATASET_IMAGE_LIMITS, { color: channels === 3 });
      const prepared = toModelInput(img, { width, height, channels, polarity: 'keep' });
      out.set(prepared.pixels, (first + j) * px);
      ringMeans[j] = prepared.steps.borderMean;
    } catch (err) {
      failures.push({ index: j, reason: (err as Error).message });
    }
  });
  return { ringMeans, failures };
}
