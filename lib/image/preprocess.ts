/*
 * A decoded image → what the models were trained on: [height × width × channels] uint8 of the
 * run's input shape (28×28×1 for Fashion-MNIST, 32×32×3 for CIFAR). One implementation for both
 * sides: the trainer turns every image-folder file into its training pixels with it, and the API
 * every upload, so an uploaded copy of a dataset image gets exactly its precomputed answer.
 *
 * 0. Channels. 1: the luminance plane (ITU-R BT.601, see color.ts). 3: RGB; a grayscale image
 *    (or a grayscale PNG in a colour dataset) gets R = G = B = its luminance, as PIL's
 *    convert('RGB') does.
 * 1. Polarity. The mean luminance of the image's outermost ring of pixels decides. What 'auto'
 *    does depends on the dataset (`datasetPolarity`, recorded in the run's manifest from its own
 *    images): a light-on-dark dataset (every image's ring mean ≤ 127, e.g. all 70 000 of
 *    Fashion-MNIST's, whose ring means are at most 108) inverts an image whose ring is light,
 *    255 − v, so the background becomes black; a dark-on-light one inverts a dark-ringed image;
 *    a dataset of natural photos (mixed) never inverts. Dataset images are never inverted.
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
 *    is an exact fraction, rounded half up to uint8 as PIL rounds; each channel on its own.
 * 4. input = pixel · (1/255) in float32: the trainer's own conversion, bit for bit.
 */
import { PIXEL_SCALE } from '../model/types.ts';
import type { DecodedImage } from './types.ts';

export const IMAGE_SIDE = 28;
export const IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE;

export type Polarity = 'auto' | 'keep' | 'invert';

/**
 * What a dataset's images look like, from their ring means: 'light-on-dark' when every image's
 * ring averages ≤ 127 (light objects on black, like MNIST), 'dark-on-light' when every one
 * averages above 127, 'mixed' otherwise (natural photos): then 'auto' never inverts.
 */
export type DatasetPolarity = 'light-on-dark' | 'dark-on-light' | 'mixed';

/** The ring mean above which an image counts as light-bordered. */
const LIGHT_RING = 127;

/** Classifies a dataset from its images' ring means (see DatasetPolarity). */
export function datasetPolarityOf(ringMeans: ArrayLike<number>): DatasetPolarity {
  let light = 0;
  for (let i = 0; i < ringMeans.length; i++) if (ringMeans[i] > LIGHT_RING) light++;
  if (light === 0) return 'light-on-dark';
  if (light === ringMeans.length) return 'dark-on-light';
  return 'mixed';
}

/** Whether 'auto' inverts an image with this ring mean, for a dataset of this polarity. */
export function autoInverts(ringMean: number, dataset: DatasetPolarity): boolean {
  if (dataset === 'light-on-dark') return ringMean > LIGHT_RING;
  if (dataset === 'dark-on-light') return ringMean <= LIGHT_RING;
  return false;
}

export interface PreprocessOptions {
  /** Target width, e.g. from a run's manifest. Default 28. */
  width?: number;
  /** Target height. Default 28. */
  height?: number;
  /** Target channels: 1 (luminance) or 3 (RGB). Default 1. */
  channels?: 1 | 3;
  /**
   * 'auto' (default): invert when the image's ring disagrees with `datasetPolarity`;
   * 'keep': never invert; 'invert': always invert.
   */
  polarity?: Polarity;
  /** The run's dataset polarity (its manifest's); decides what 'auto' does. Default 'light-on-dark'. */
  datasetPolarity?: DatasetPolarity;
}

/** What was done to the image, for the API to report. */
export interface PreprocessSteps {
  source: { width: number; height: number };
  /**
   * 'none': already the target size, pixels passed through; 'pad': padding alone made it so;
   * 'area': padded, then downscaled; 'bilinear': padded, then upscaled.
   */
  resample: 'none' | 'pad' | 'area' | 'bilinear';
  /** Size the image was resampled to (28×28 unless asked otherwise), and its channels. */
  target: { width: number; height: number; channels: 1 | 3 };
  /** Black rows/columns added on each side to give the image the target's shape, in source pixels. */
  padding: { top: number; right: number; bottom: number; left: number };
  polarity: Polarity;
  datasetPolarity: DatasetPolarity;
  /** Mean luminance of the outermost ring of source pixels (before any inversion), 0..255. */
  borderMean: number;
  inverted: boolean;
  /** Some pixel was translucent and was composited over black when decoding. */
  alphaComposited: boolean;
  /** EXIF orientation (1–8) the decoder turned the image by; 1 = none. `source` is after it. */
  exifOrientation: number;
}

export interface ModelInput {
  /** [height × width × channels] row-major, channels interleaved: what the model sees, × 255. */
  pixels: Uint8Array;
  /** pixels · (1/255), the model's input. */
  input: Float32Array;
  steps: PreprocessSteps;
}

const POLARITIES: readonly Polarity[] = ['auto', 'keep', 'invert'];
const DATASET_POLARITIES: readonly DatasetPolarity[] = ['light-on-dark', 'dark-on-light', 'mixed'];

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
 * through `value`) with separable integer taps, each of the C interleaved channels on its own;
 * rounds each exact fraction half up.
 */
function resample(
  src: Uint8Array, width: number, height: number, C: number, left: number, top: number,
  xAxis: Axis, yAxis: Axis, value: (v: number) => number,
): Uint8Array {
  const T = xAxis.taps.length;
  const U = yAxis.taps.length;
  // Horizontal pass over the image's own rows: [height × T × C] sums, each ≤ 255 · xAxis.total.
  const rows = new Float64Array(height * T * C);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let i = 0; i < T; i++) {
      const { first, weights } = xAxis.taps[i];
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let k = 0; k < weights.length; k++) {
          const x = first + k - left;
          if (x >= 0 && x < width) s += weights[k] * value(src[(row + x) * C + c]);
        }
        rows[(y * T + i) * C + c] = s;
      }
    }
  }
  // Vertical pass; padded rows are black and add nothing. Sums ≤ 255 · total² < 2^53: exact.
  const den = xAxis.total * yAxis.total;
  const out = new Uint8Array(U * T * C);
  for (let j = 0; j < U; j++) {
    const { first, weights } = yAxis.taps[j];
    for (let i = 0; i < T; i++) {
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let k = 0; k < weights.length; k++) {
          const y = first + k - top;
          if (y >= 0 && y < height) s += weights[k] * rows[(y * T + i) * C + c];
        }
        out[(j * T + i) * C + c] = Math.floor((2 * s + den) / (2 * den));
      }
    }
  }
  return out;
}

/** R = G = B = v for each pixel of a plane. */
function replicate(gray: Uint8Array): Uint8Array {
  const out = new Uint8Array(gray.length * 3);
  for (let i = 0; i < gray.length; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = gray[i];
  return out;
}

/** Turns a decoded image into the model's input (28×28×1 by default); see the top of this file. */
export function toModelInput(img: DecodedImage, options: PreprocessOptions = {}): ModelInput {
  const polarity = options.polarity ?? 'auto';
  const datasetPolarity = options.datasetPolarity ?? 'light-on-dark';
  const W = options.width ?? IMAGE_SIDE;
  const H = options.height ?? IMAGE_SIDE;
  const C = options.channels ?? 1;
  if (!POLARITIES.includes(polarity)) throw new RangeError(`polarity must be one of ${POLARITIES.join(', ')}, got ${String(polarity)}`);
  if (!DATASET_POLARITIES.includes(datasetPolarity)) throw new RangeError(`datasetPolarity must be one of ${DATASET_POLARITIES.join(', ')}, got ${String(datasetPolarity)}`);
  if (C !== 1 && C !== 3) throw new RangeError(`channels must be 1 or 3, got ${String(C)}`);
  if (!(Number.isInteger(W) && Number.isInteger(H) && W > 0 && H > 0 && W <= 1024 && H <= 1024)) {
    throw new RangeError(`target size must be integers 1..1024, got ${W}×${H}`);
  }
  const { width, height, gray } = img;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0) || gray.length !== width * height) {
    throw new RangeError(`image is ${width}×${height} but holds ${gray.length} pixels`);
  }

  if (img.rgb && img.rgb.length !== 3 * width * height) throw new RangeError(`image is ${width}×${height} but holds ${img.rgb.length} RGB samples`);

  const mean = borderMean(gray, width, height);
  const inverted = polarity === 'invert' || (polarity === 'auto' && autoInverts(mean, datasetPolarity));
  const value = inverted ? (v: number) => 255 - v : (v: number) => v;

  // The smallest frame of the target's shape (a square for 28×28) that holds the image.
  const frameW = Math.max(width, Math.ceil((height * W) / H));
  const frameH = Math.max(height, Math.ceil((width * H) / W));
  const left = (frameW - width) >> 1;
  const top = (frameH - height) >> 1;
  const padding = { top, right: frameW - width - left, bottom: frameH - height - top, left };

  // A grayscale source in a colour run is resampled once and replicated (each channel would
  // give the same numbers).
  const colour = C === 3 && img.rgb !== undefined;
  const src = colour ? img.rgb! : gray;
  const srcC = colour ? 3 : 1;
  let pixels: Uint8Array;
  let method: PreprocessSteps['resample'];
  if (width === W && height === H) {
    method = 'none';
    pixels = src.slice();
    if (inverted) for (let i = 0; i < pixels.length; i++) pixels[i] = 255 - pixels[i];
  } else {
    const x = axis(frameW, W);
    const y = axis(frameH, H);
    const methods = [x.method, y.method];
    method = methods.includes('area') ? 'area' : methods.includes('bilinear') ? 'bilinear' : 'pad';
    pixels = resample(src, width, height, srcC, left, top, x, y, value);
  }
  if (C === 3 && !colour) pixels = replicate(pixels);

  const input = new Float32Array(W * H * C);
  for (let i = 0; i < input.length; i++) input[i] = pixels[i] * PIXEL_SCALE;
  return {
    pixels,
    input,
    steps: {
      source: { width, height },
      target: { width: W, height: H, channels: C },
      resample: method,
      padding,
      polarity,
      datasetPolarity,
      borderMean: mean,
      inverted,
      alphaComposited: img.hadAlpha,
      exifOrientation: img.orientation ?? 1,
    },
  };
}
