/*
 * Pixels sent as JSON instead of an image file. Accepted shapes (a bare array is read as
 * `{ "pixels": array }`):
 *
 *   { "pixels": [v0, …, v783] }                       28×28, flat, row-major
 *   { "pixels": [[v, …28], …28 rows] }                28×28, one array per row
 *   { "pixels": [...], "width": W, "height": H }      any size: flat of length W·H, or H rows of W
 *   optional "scale": "0-255" (integers 0..255) or "0-1" (numbers in [0, 1])
 *
 * Without "scale", values that are all ≤ 1 are read as 0-1 and anything else as 0-255; an image
 * in 0-255 whose values are only 0 and 1 is thus read as 0-1, so declare the scale when in doubt.
 * 0-1 values become round(v · 255), which gives back the exact uint8 for any v = k/255 (also
 * k/255 as a float32, as the model's own input is). Other sizes are resized like uploaded files.
 */
import { ImageError } from './errors.ts';
import { IMAGE_SIDE } from './preprocess.ts';
import { checkDimensions, resolveLimits, type DecodedImage, type ImageLimits } from './types.ts';

export type PixelScale = '0-255' | '0-1';

/** The JSON body `fromPixelArray` reads. */
export interface PixelArrayBody {
  pixels: number[] | number[][];
  width?: number;
  height?: number;
  scale?: PixelScale;
}

export interface PixelImage extends DecodedImage {
  format: 'pixels';
  /** The scale used: as declared, or inferred. */
  scale: PixelScale;
}

const FIELDS = ['pixels', 'width', 'height', 'scale'];
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

/** Validates a JSON pixel body (see the top of this file) and returns it as a decoded image. */
export function fromPixelArray(json: unknown, limits?: ImageLimits): PixelImage {
  const body: Record<string, unknown> = Array.isArray(json)
    ? { pixels: json }
    : typeof json === 'object' && json !== null
      ? (json as Record<string, unknown>)
      : fail(`expected a JSON object { "pixels": [...], "width"?, "height"?, "scale"? } or an array of pixels, got ${describe(json)}`);
  for (const key of Object.keys(body)) {
    if (!FIELDS.includes(key)) fail(`unknown field ${JSON.stringify(key)}; the fields are ${FIELDS.join(', ')}`);
  }
  const pixels = body.pixels;
  if (!Array.isArray(pixels)) fail(`pixels must be an array (flat, or one array per row), got ${pixels === undefined ? 'nothing' : describe(pixels)}`);
  if (pixels.length === 0) fail('pixels is empty');
  const declaredWidth = dimension(body, 'width');
  const declaredHeight = dimension(body, 'height');
  if ((declaredWidth === undefined) !== (declaredHeight === undefined)) fail('give both width and height, or neither');
  const scale = body.scale;
  if (scale !== undefined && !SCALES.includes(scale as PixelScale)) {
    fail(`scale must be "0-255" or "0-1", got ${describe(scale)}`);
  }

  // Shape: nested rows or flat, checked against width/height when given.
  const nested = Array.isArray(pixels[0]);
  let width: number;
  let height: number;
  if (nested) {
    height = pixels.length;
    width = (pixels[0] as unknown[]).length;
    pixels.forEach((row, y) => {
      if (!Array.isArray(row)) fail(`pixels[${y}] is ${describe(row)}, but pixels[0] is a row: use rows throughout or a flat array`);
      if (row.length !== width) fail(`pixels[${y}] has ${row.length} values; pixels[0] has ${width}`);
    });
    if (width === 0) fail('pixels holds empty rows');
    if (declaredWidth !== undefined && (declaredWidth !== width || declaredHeight !== height)) {
      fail(`pixels has ${height} rows of ${width}, but width × height is ${declaredWidth}×${declaredHeight}`);
    }
  } else if (declaredWidth !== undefined && declaredHeight !== undefined) {
    width = declaredWidth;
    height = declaredHeight;
    if (pixels.length !== width * height) fail(`pixels has ${pixels.length} values; width × height is ${width}×${height} = ${width * height}`);
  } else {
    width = height = IMAGE_SIDE;
    if (pixels.length !== width * height) {
      fail(`pixels has ${pixels.length} values; a flat array must hold ${width * height} (${width}×${height}), or give width and height`);
    }
  }
  checkDimensions(width, height, resolveLimits(limits), 'pixel array');

  // Values: numbers in range for the scale; inferred from the largest value when not declared.
  const values = new Float64Array(width * height);
  let max = 0;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      const v: unknown = nested ? (pixels[y] as unknown[])[x] : pixels[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${at(nested, x, y, i)} is ${describe(v)}; expected a number`);
      if (v < 0) fail(`${at(nested, x, y, i)} is ${v}; pixel values cannot be negative`);
      if (v > max) max = v;
      values[i] = v;
    }
  }
  const used: PixelScale = (scale as PixelScale | undefined) ?? (max <= 1 ? '0-1' : '0-255');
  const gray = new Uint8Array(width * height);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (used === '0-1') {
      if (v > 1) fail(`${at(nested, i % width, Math.floor(i / width), i)} is ${v}; with scale "0-1" values must be in [0, 1]`);
      gray[i] = Math.round(v * 255);
    } else {
      if (!Number.isInteger(v) || v > 255) {
        const why = scale === undefined ? ' (values above 1 mean scale "0-255")' : '';
        fail(`${at(nested, i % width, Math.floor(i / width), i)} is ${v}; with scale "0-255"${why} values must be integers 0..255`);
      }
      gray[i] = v;
    }
  }
  return { width, height, gray, hadAlpha: false, format: 'pixels', scale: used };
}

function at(nested: boolean, x: number, y: number, i: number): string {
  return nested ? `pixels[${y}][${x}]` : `pixels[${i}]`;
}
