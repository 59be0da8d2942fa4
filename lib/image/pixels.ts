/*
 * Pixels sent as JSON instead of an image file. Accepted shapes (a bare array is read as
 * `{ "pixels": array }`):
 *
 *   { "pixels": [v0, …, v783] }                       28×28, flat, row-major
 *   { "pixels": [[v, …28], …28 rows] }                28×28, one array per row
 *   { "pixels": [...], "width": W, "height": H }      any size: flat of length W·H, or H rows of W
 *   { "pixels": [[[r, g, b], …W], …H rows] }          colour: one [r, g, b] per pixel
 *   { "pixels": [r0, g0, b0, r1, …], "width": W, "height": H, "channels": 3 }
 *                                                     colour, flat: W·H·3 values, channels interleaved
 *   optional "scale": "0-255" (integers 0..255) or "0-1" (numbers in [0, 1])
 *
 * "channels" (1 or 3) is needed only for a flat colour array; nested pixels say it by their depth
 * ([h][w][1] is grayscale too). A colour array decodes as a colour file does (decode.ts): RGB, and
 * its luminance as PIL's convert('L') (color.ts); a grayscale run uses only the luminance, and
 * grayscale pixels in a colour run get R = G = B. Without "scale", values that are all ≤ 1 are
 * read as 0-1 and anything else as 0-255; an image in 0-255 whose values are only 0 and 1 is thus
 * read as 0-1, so declare the scale when in doubt. 0-1 values become round(v · 255), which gives
 * back the exact uint8 for any v = k/255 (also k/255 as a float32, as the model's own input is).
 * Other sizes are resized like uploaded files.
 */
import { lumaOverBlack } from './color.ts';
import { ImageError } from './errors.ts';
import { IMAGE_SIDE } from './preprocess.ts';
import { checkDecodeMemory, checkDimensions, resolveLimits, type DecodedImage, type DecodeOptions, type ImageLimits } from './types.ts';

export type PixelScale = '0-255' | '0-1';

/** The JSON body `fromPixelArray` reads. */
export interface PixelArrayBody {
  pixels: number[] | number[][] | number[][][];
  width?: number;
  height?: number;
  /** 1 (default) or 3; only a flat colour array needs it. */
  channels?: 1 | 3;
  scale?: PixelScale;
}

export interface PixelImage extends DecodedImage {
  format: 'pixels';
  /** The scale used: as declared, or inferred. */
  scale: PixelScale;
}

const FIELDS = ['pixels', 'width', 'height', 'channels', 'scale'];
const SCALES: PixelScale[] = ['0-255', '0-1'];

function fail(message: string): never {
  throw new ImageError('invalid_pixels', message);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function dimension(body: Record<string, unknown>, key: 'width' | 'height'): number | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) fail(`${key} must be a positive integer, got ${describe(v)}`);
  return v;
}

/**
 * Bytes a pixel array costs once parsed, per sample: the JS array slot holding the number (8 with
 * the V8 heap's boxed doubles or tagged values), the Float64Array copy below (8) and the uint8
 * planes (≤ 2). What `maxDecodeMemory` is checked against, as for a decoder.
 */
export const PIXEL_ARRAY_BYTES_PER_SAMPLE = 18;

/**
 * Peak memory per byte of a JSON pixel body, parsed: the text, and what its values become (a
 * value takes at least 2 bytes of text, "0,", and PIXEL_ARRAY_BYTES_PER_SAMPLE once parsed; a
 * colour pixel [r, g, b] adds an array object per ~8 bytes). An estimate, upper side.
 */
export const PIXEL_JSON_BYTES_PER_BODY_BYTE = 12;

/**
 * The decoder-memory limit applied to a JSON pixel body before it is parsed (parsing is the
 * costly part: a 2000×2000 array is 8 MB of text and ~120 MB once parsed): `image_too_large`
 * when the body's size alone could parse into more than `maxDecodeMemory`.
 */
export function checkPixelBodySize(bodyBytes: number, limits?: ImageLimits): void {
  checkDecodeMemory(bodyBytes * PIXEL_JSON_BYTES_PER_BODY_BYTE, `${bodyBytes}-byte JSON pixel body`, resolveLimits(limits));
}

/**
 * Validates a JSON pixel body (see the top of this file) and returns it as a decoded image;
 * `options.color` keeps the RGB of a colour array, as decodeImage does for files.
 */
export function fromPixelArray(json: unknown, limits?: ImageLimits, options: DecodeOptions = {}): PixelImage {
  const body: Record<string, unknown> = Array.isArray(json)
    ? { pixels: json }
    : typeof json === 'object' && json !== null
      ? (json as Record<string, unknown>)
      : fail(`expected a JSON object { "pixels": [...], "width"?, "height"?, "channels"?, "scale"? } or an array of pixels, got ${describe(json)}`);
  for (const key of Object.keys(body)) {
    if (!FIELDS.includes(key)) fail(`unknown field ${JSON.stringify(key)}; the fields are ${FIELDS.join(', ')}`);
  }
  const pixels = body.pixels;
  if (!Array.isArray(pixels)) fail(`pixels must be an array (flat, or one array per row), got ${pixels === undefined ? 'nothing' : describe(pixels)}`);
  if (pixels.length === 0) fail('pixels is empty');
  const declaredWidth = dimension(body, 'width');
  const declaredHeight = dimension(body, 'height');
  if ((declaredWidth === undefined) !== (declaredHeight === undefined)) fail('give both width and height, or neither');
  const declaredChannels = body.channels;
  if (declaredChannels !== undefined && declaredChannels !== 1 && declaredChannels !== 3) fail(`channels must be 1 or 3, got ${describe(declaredChannels)}`);
  const scale = body.scale;
  if (scale !== undefined && !SCALES.includes(scale as PixelScale)) {
    fail(`scale must be "0-255" or "0-1", got ${describe(scale)}`);
  }
  const lim = resolveLimits(limits);

  // Shape: [h][w][c], [h][w] or flat, checked against width/height/channels when given.
  const nested = Array.isArray(pixels[0]);
  let width: number;
  let height: number;
  let channels: 1 | 3;
  let depth: 1 | 2 | 3;
  if (nested) {
    height = pixels.length;
    width = (pixels[0] as unknown[]).length;
    if (width === 0) fail('pixels holds empty rows');
    const first = (pixels[0] as unknown[])[0];
    depth = Array.isArray(first) ? 3 : 2;
    const c = depth === 3 ? (first as unknown[]).length : 1;
    if (c !== 1 && c !== 3) fail(`pixels[0][0] has ${c} values; a pixel is [v] (grayscale) or [r, g, b]`);
    channels = c as 1 | 3;
    if (declaredChannels !== undefined && declaredChannels !== channels) {
      fail(depth === 3
        ? `pixels holds ${channels}-value pixels, but channels is ${declaredChannels}`
        : `pixels holds rows of numbers (grayscale), but channels is ${declaredChannels}: give one [r, g, b] per pixel, or a flat array`);
    }
    if (declaredWidth !== undefined && (declaredWidth !== width || declaredHeight !== height)) {
      fail(`pixels has ${height} rows of ${width}, but width × height is ${declaredWidth}×${declaredHeight}`);
    }
    checkDimensions(width, height, lim, 'pixel array');
    pixels.forEach((row, y) => {
      if (!Array.isArray(row)) fail(`pixels[${y}] is ${describe(row)}, but pixels[0] is a row: use rows throughout or a flat array`);
      if (row.length !== width) fail(`pixels[${y}] has ${row.length} values; pixels[0] has ${width}`);
      if (depth === 3) {
        for (let x = 0; x < width; x++) {
          const p: unknown = row[x];
          if (!Array.isArray(p)) fail(`pixels[${y}][${x}] is ${describe(p)}, but pixels[0][0] is a pixel array: use [r, g, b] throughout`);
          if (p.length !== channels) fail(`pixels[${y}][${x}] has ${p.length} values; pixels[0][0] has ${channels}`);
        }
      }
    });
  } else {
    depth = 1;
    channels = (declaredChannels as 1 | 3 | undefined) ?? 1;
    if (declaredWidth !== undefined && declaredHeight !== undefined) {
      width = declaredWidth;
      height = declaredHeight;
    } else {
      width = height = IMAGE_SIDE;
    }
    checkDimensions(width, height, lim, 'pixel array');
    const want = width * height * channels;
    if (pixels.length !== want) {
      fail(declaredWidth === undefined
        ? `pixels has ${pixels.length} values; a flat array must hold ${want} (${width}×${height}${channels === 3 ? '×3' : ''}), or give width and height`
        : `pixels has ${pixels.length} values; width × height${channels === 3 ? ' × channels' : ''} is ${width}×${height}${channels === 3 ? '×3' : ''} = ${want}`);
    }
  }
  const samples = width * height * channels;
  checkDecodeMemory(samples * PIXEL_ARRAY_BYTES_PER_SAMPLE, 'pixel array', lim);

  // Values: numbers in range for the scale; inferred from the largest value when not declared.
  const values = new Float64Array(samples);
  let max = 0;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let ch = 0; ch < channels; ch++, i++) {
        const v: unknown = depth === 3 ? ((pixels[y] as unknown[][])[x])[ch] : depth === 2 ? (pixels[y] as unknown[])[x] : pixels[i];
        if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${at(depth, x, y, ch, i)} is ${describe(v)}; expected a number`);
        if (v < 0) fail(`${at(depth, x, y, ch, i)} is ${v}; pixel values cannot be negative`);
        if (v > max) max = v;
        values[i] = v;
      }
    }
  }
  const used: PixelScale = (scale as PixelScale | undefined) ?? (max <= 1 ? '0-1' : '0-255');
  const samples8 = new Uint8Array(samples);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const q = Math.floor(i / channels), x = q % width, y = Math.floor(q / width), ch = i % channels;
    if (used === '0-1') {
      if (v > 1) fail(`${at(depth, x, y, ch, i)} is ${v}; with scale "0-1" values must be in [0, 1]`);
      samples8[i] = Math.round(v * 255);
    } else {
      if (!Number.isInteger(v) || v > 255) {
        const why = scale === undefined ? ' (values above 1 mean scale "0-255")' : '';
        fail(`${at(depth, x, y, ch, i)} is ${v}; with scale "0-255"${why} values must be integers 0..255`);
      }
      samples8[i] = v;
    }
  }
  if (channels === 1) return { width, height, gray: samples8, hadAlpha: false, format: 'pixels', scale: used };
  const gray = new Uint8Array(width * height);
  for (let q = 0; q < gray.length; q++) gray[q] = lumaOverBlack(samples8[3 * q], samples8[3 * q + 1], samples8[3 * q + 2], 255);
  return { width, height, gray, ...(options.color ? { rgb: samples8 } : {}), hadAlpha: false, format: 'pixels', scale: used };
}

function at(depth: 1 | 2 | 3, x: number, y: number, ch: number, i: number): string {
  return depth === 3 ? `pixels[${y}][${x}][${ch}]` : depth === 2 ? `pixels[${y}][${x}]` : `pixels[${i}]`;
}
