/*
 * A decoded image → what the models were trained on: 28×28 uint8 (or the run's own size), light
 * object on black.
 *
 * 1. Polarity. The mean of the image's outermost ring of pixels decides: above 127 (a light
 *    background) the image is inverted, 255 − v, so the background becomes black. Every one of
 *    Fashion-MNIST's 70 000 images has a ring mean of at most 108, so none is ever inverted.
 * 2. Frame. The image is centred in a black frame of the target's shape — a square of side
 *    max(width, height) for 28×28 — left/top getting the smaller half of an odd margin:
 *    Fashion-MNIST objects sit centred in a square frame, so stretching would distort them.
 *    Padding comes after inversion, so it is always background.
 * 3. Resample. An image already of the target size passes through untouched, so a dataset image
 *    uploaded as PNG comes out bit-identical. A larger frame is area-averaged: each target pixel
 *    is the mean of the source area it covers, partial pixels weighted by the fraction covered
 *    (OpenCV's INTER_AREA; PIL's BOX takes whole pixels by their centres instead). A smaller one
 *    is upscaled bilinearly with pixel centres aligned, as PIL and OpenCV do. Weights are
 *    integers (area: overlaps in 1/28-pixel units; bilinear: 1/56-pixel units), so each output
 *    is an exact fraction, rounded half up to uint8 as PIL rounds.
 * 4. input = pixel · (1/255) in float32: the trainer's own conversion, bit for bit.
 */
import { PIXEL_SCALE } from '../../lib/model/types.ts';
import type { DecodedImage } from './types.ts';

export const IMAGE_SIDE = 28;
export const IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE;

export type Polarity = 'auto' | 'keep' | 'invert';

export interface PreprocessOptions {
  /** Target width, e.g. from a run's manifest. Default 28. */
  width?: number;
  /** Target height. Default 28. */
  height?: number;
  /**
   * 'auto' (default): invert when the outermost ring of pixels averages above 127;
   * 'keep': never invert; 'invert': always invert.
   */
  polarity?: Polarity;
}

/** What was done to the image, for the API to report. */
export interface PreprocessSteps {
  source: { width: number; height: number };
  /**
   * 'none': already the target size, pixels passed through; 'pad': padding alone made it so;
   * 'area': padded, then downscaled; 'bilinear': padded, then upscaled.
   */
  resample: 'none' | 'pad' | 'area' | 'bilinear';
  /** Size the image was resampled to (28×28 unless asked otherwise). */
  target: { width: number; height: number };
  /** Black rows/columns added on each side to give the image the target's shape, in source pixels. */
  padding: { top: number; right: number; bottom: number; left: number };
  polarity: Polarity;
  /** Mean of the outermost ring of source pixels (before any inversion), 0..255. */
  borderMean: number;
  inverted: boolean;
  /** Some pixel was translucent and was composited over black when decoding. */
  alphaComposited: boolean;
  /** EXIF orientation (1–8) the decoder turned the image by; 1 = none. `source` is after it. */
  exifOrientation: number;
}

export interface ModelInput {
  /** [height × width] row-major, 28×28 by default: what the model sees, × 255. */
  pixels: Uint8Array;
  /** [height × width] pixels · (1/255), the model's input. */
  input: Float32Array;
  steps: PreprocessSteps;
}

const POLARITIES: readonly Polarity[] = ['auto', 'keep', 'invert'];

/** Mean of the pixels on the image's outermost ring (the whole image if it is 1 or 2 wide). */
export function borderMean(gray: Uint8Array, width: number, height: number): number {
  let sum = 0;
  let count = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    if (y === 0 || y === height - 1) {
      for (let x = 0; x < width; x++) sum += gray[row + x];
      count += width;
    } else {
      sum += gray[row];
      count++;
      if (width > 1) {
        sum += gray[row + width - 1];
        count++;
      }
    }
  }
  return sum / count;
}

/** One target pixel's sources along an axis: padded-square indices from `first`, integer weights. */
interface Tap {
  first: number;
  weights: number[];
}

/** Box filter from `from` to `to` pixels: overlaps measured in units of 1/to source pixel (sum = from). */
function areaTaps(from: number, to: number): Tap[] {
  const taps: Tap[] = [];
  for (let i = 0; i < to; i++) {
    const lo = i * from;
    const hi = lo + from;
    const first = Math.floor(lo / to);
    const weights: number[] = [];
    for (let j = first; j * to < hi; j++) {
      weights.push(Math.min(hi, (j + 1) * to) - Math.max(lo, j * to));
    }
    taps.push({ first, weights });
  }
  return taps;
}

/**
 * Bilinear from `from` to `to` pixels, centres aligned: target i samples source
 * ((2i + 1)·from − to) / (2·to), clamped to the edge pixels; weights in units of 1/(2·to) (sum = 2·to).
 */
function bilinearTaps(from: number, to: number): Tap[] {
  const unit = 2 * to;
  const taps: Tap[] = [];
  for (let i = 0; i < to; i++) {
    const p = Math.min(Math.max((2 * i + 1) * from - to, 0), unit * (from - 1));
    const first = Math.floor(p / unit);
    const frac = p - first * unit;
    taps.push(frac === 0 ? { first, weights: [unit] } : { first, weights: [unit - frac, frac] });
  }
  return taps;
}

interface Axis {
  taps: Tap[];
  /** Sum of each tap's weights. */
  total: number;
  method: 'none' | 'area' | 'bilinear';
}

/** Area-average when shrinking (or keeping) the length, bilinear when growing it. */
function axis(from: number, to: number): Axis {
  if (from >= to) return { taps: areaTaps(from, to), total: from, method: from === to ? 'none' : 'area' };
  return { taps: bilinearTaps(from, to), total: 2 * to, method: 'bilinear' };
}

/**
 * Resamples the padded frame (image at offset left/top, black elsewhere, values mapped
 * through `value`) with separable integer taps; rounds each exact fraction half up.
 */
function resample(
  gray: Uint8Array, width: number, height: number, left: number, top: number,
  xAxis: Axis, yAxis: Axis, value: (v: number) => number,
): Uint8Array {
  const T = xAxis.taps.length;
  const U = yAxis.taps.length;
  // Horizontal pass over the image's own rows: [height × T] sums, each ≤ 255 · xAxis.total.
  const rows = new Float64Array(height * T);
  for (let y = 0; y < height; y++) {
    const src = y * width;
    for (let i = 0; i < T; i++) {
      const { first, weights } = xAxis.taps[i];
      let s = 0;
      for (let k = 0; k < weights.length; k++) {
        const x = first + k - left;
        if (x >= 0 && x < width) s += weights[k] * value(gray[src + x]);
      }
      rows[y * T + i] = s;
    }
  }
  // Vertical pass; padded rows are black and add nothing. Sums ≤ 255 · total² < 2^53: exact.
  const den = xAxis.total * yAxis.total;
  const out = new Uint8Array(U * T);
  for (let j = 0; j < U; j++) {
    const { first, weights } = yAxis.taps[j];
    for (let i = 0; i < T; i++) {
      let s = 0;
      for (let k = 0; k < weights.length; k++) {
        const y = first + k - top;
        if (y >= 0 && y < height) s += weights[k] * rows[y * T + i];
      }
      out[j * T + i] = Math.floor((2 * s + den) / (2 * den));
    }
  }
  return out;
}

/** Turns a decoded image into the model's input (28×28 by default); see the top of this file. */
export function toModelInput(img: DecodedImage, options: PreprocessOptions = {}): ModelInput {
  const polarity = options.polarity ?? 'auto';
  const W = options.width ?? IMAGE_SIDE;
  const H = options.height ?? IMAGE_SIDE;
  if (!POLARITIES.includes(polarity)) throw new RangeError(`polarity must be one of ${POLARITIES.join(', ')}, got ${String(polarity)}`);
  if (!(Number.isInteger(W) && Number.isInteger(H) && W > 0 && H > 0 && W <= 1024 && H <= 1024)) {
    throw new RangeError(`target size must be integers 1..1024, got ${W}×${H}`);
  }
  const { width, height, gray } = img;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0) || gray.length !== width * height) {
    throw new RangeError(`image is ${width}×${height} but holds ${gray.length} pixels`);
  }

  const mean = borderMean(gray, width, height);
  const inverted = polarity === 'invert' || (polarity === 'auto' && mean > 127);
  const value = inverted ? (v: number) => 255 - v : (v: number) => v;

  // The smallest frame of the target's shape (a square for 28×28) that holds the image.
  const frameW = Math.max(width, Math.ceil((height * W) / H));
  const frameH = Math.max(height, Math.ceil((width * H) / W));
  const left = (frameW - width) >> 1;
  const top = (frameH - height) >> 1;
  const padding = { top, right: frameW - width - left, bottom: frameH - height - top, left };

  let pixels: Uint8Array;
  let method: PreprocessSteps['resample'];
  if (width === W && height === H) {
    method = 'none';
    pixels = Uint8Array.from(gray, value);
  } else {
    const x = axis(frameW, W);
    const y = axis(frameH, H);
    const methods = [x.method, y.method];
    method = methods.includes('area') ? 'area' : methods.includes('bilinear') ? 'bilinear' : 'pad';
    pixels = resample(gray, width, height, left, top, x, y, value);
  }

  const input = new Float32Array(W * H);
  for (let i = 0; i < input.length; i++) input[i] = pixels[i] * PIXEL_SCALE;
  return {
    pixels,
    input,
    steps: {
      source: { width, height },
      target: { width: W, height: H },
      resample: method,
      padding,
      polarity,
      borderMean: mean,
      inverted,
      alphaComposited: img.hadAlpha,
      exifOrientation: img.orientation ?? 1,
    },
  };
}
