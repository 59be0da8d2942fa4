import { ImageError } from './errors.ts';

/** An image reduced to what preprocessing needs: an 8-bit luminance plane, and colour when asked for. */
export interface DecodedImage {
  width: number;
  height: number;
  /** [height × width] row-major luminance 0..255 (0 = black), alpha already composited over black. */
  gray: Uint8Array;
  /**
   * [height × width × 3] row-major RGB, channels interleaved, alpha composited over black: present
   * when decoded with `color: true` and the file holds colour (a grayscale file has only `gray`).
   */
  rgb?: Uint8Array;
  /** Some pixel was not fully opaque, so compositing it over black changed it. */
  hadAlpha: boolean;
  format: 'png' | 'jpeg' | 'pixels';
  /** EXIF orientation already applied to `gray` (JPEG; 1 or absent = none was needed). */
  orientation?: number;
  /** 8: a large JPEG or PNG decoded at 1/8 of its size (jpeg.ts, png-scaled.ts); absent = full size. */
  dctScale?: 8;
}

/**
 * Limits checked from the header, before any pixel is decoded. The defaults suit a Node server;
 * a Worker (128 MB isolate) should lower `maxDecodeMemory`.
 */
export interface ImageLimits {
  /** Largest body, in bytes. Default 8 MiB. */
  maxBytes?: number;
  /** Largest width, in pixels. Default 4096. */
  maxWidth?: number;
  /** Largest height, in pixels. Default 4096. */
  maxHeight?: number;
  /** Largest width × height. Default 4096² = 16 777 216. */
  maxPixels?: number;
  /**
   * Largest peak memory a decode may take, estimated from the header (PNG ≈ 5 × its raw data;
   * jpeg-js ≈ 27 bytes per pixel for 4:2:0 colour, 46 for 4:4:4; a JPEG over 32 MiB of that is
   * decoded at 1/8 scale in ≈ 5 bytes per 8×8 block, see jpeg.ts, and a PNG, interlaced or not,
   * over 32 MiB row-streamed at 1/8 scale, see png-scaled.ts; a JSON pixel body ≈ 12 bytes per
   * byte of text, see pixels.ts). Default 1 GiB, which every image within the default size limits
   * passes; in a Worker, 48 MiB admits any JPEG or PNG within the size limits, but for the colour
   * decode of a 1-, 2- or 4-bit palette PNG of about 8 megapixels or more (decoded at full size,
   * as its grey estimate is under 32 MiB, while its RGB plane takes 3 bytes a pixel more).
   */
  maxDecodeMemory?: number;
  /**
   * Decode budget: largest decoded image data, width × height × channels × bytes per sample, read
   * from the header — what decoding costs in CPU. Default 64 MiB: a 4096² 8-bit RGBA PNG passes,
   * the same at 16 bits (128 MiB) does not.
   */
  maxDecodeBytes?: number;
}

/** How to decode: `color` keeps RGB besides the luminance plane (colour runs). */
export interface DecodeOptions {
  color?: boolean;
}

export const DEFAULT_LIMITS: Required<ImageLimits> = {
  maxBytes: 8 * 1024 * 1024,
  maxWidth: 4096,
  maxHeight: 4096,
  maxPixels: 4096 * 4096,
  maxDecodeMemory: 1024 * 1024 * 1024,
  maxDecodeBytes: 64 * 1024 * 1024,
};

export function resolveLimits(limits: ImageLimits = {}): Required<ImageLimits> {
  const out = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ImageLimits)[]) {
    const v = limits[key];
    if (v === undefined) continue;
    if (!(Number.isInteger(v) && v > 0)) throw new RangeError(`image limit ${key} must be a positive integer, got ${v}`);
    out[key] = v;
  }
  return out;
}

/** Throws `image_too_large` when width, height or their product is over a limit. */
export function checkDimensions(width: number, height: number, limits: Required<ImageLimits>, what = 'image'): void {
  if (width > limits.maxWidth || height > limits.maxHeight) {
    throw new ImageError('image_too_large', `${what} is ${width}×${height} pixels; the limit is ${limits.maxWidth}×${limits.maxHeight}`);
  }
  if (width * height > limits.maxPixels) {
    throw new ImageError('image_too_large', `${what} is ${width}×${height} = ${width * height} pixels; the limit is ${limits.maxPixels} pixels`);
  }
}

/** Throws `image_too_large` when the decoder would need more than `maxDecodeMemory` bytes. */
export function checkDecodeMemory(bytes: number, what: string, limits: Required<ImageLimits>): void {
  if (bytes > limits.maxDecodeMemory) {
    throw new ImageError('image_too_large', `decoding this ${what} needs about ${mib(bytes)} of memory; the limit is ${mib(limits.maxDecodeMemory)}`);
  }
}

/** Throws `image_too_large` when the decoded samples would exceed `maxDecodeBytes`. */
export function checkDecodeBudget(bytes: number, what: string, limits: Required<ImageLimits>): void {
  if (bytes > limits.maxDecodeBytes) {
    throw new ImageError('image_too_large', `this ${what} decodes to ${mib(bytes)} of samples; the decode budget is ${mib(limits.maxDecodeBytes)} (PIE_DECODE_BUDGET_BYTES)`);
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
