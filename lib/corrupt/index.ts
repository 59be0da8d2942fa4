/**
 * A seeded corruption suite over uint8 images (grayscale or colour, any size), modelled on
 * MNIST-C (Mu & Gilmer 2019, "MNIST-C: A Robustness Benchmark for Computer Vision",
 * github.com/google-research/mnist-c corruptions.py) and ImageNet-C (Hendrycks & Dietterich 2019,
 * "Benchmarking Neural Network Robustness to Common Corruptions and Perturbations",
 * github.com/hendrycks/robustness ImageNet-C/create_c/make_cifar_c.py — the table for 32×32
 * images, the closest to ours). Each corruption's formula and parameter table sit above its code.
 *
 * MNIST-C's corruptions.py defines five severities for most corruptions but its released dataset
 * uses one, the function's default: `datasetSeverity` records it. stripe, dotted_line, zigzag
 * and canny_edges have no severity there, so they have one here.
 *
 * Randomness comes from mulberry32 seeded by (seed, name) only — not the severity — so the
 * severities of one image share their random draws (the same noise field, rotation sign, fog),
 * and a higher severity is the same corruption made stronger.
 */
import { mulberry32, seedFor } from '../random.ts';
import { gaussianNoise, impulseNoise, shotNoise } from './noise.ts';
import { brightness, contrast } from './photometric.ts';
import { rotate, scale, shear, translate } from './geometry.ts';
import { defocusBlur, glassBlur, motionBlur } from './blur.ts';
import { fog, spatter } from './weather.ts';
import { jpegCompression, pixelate } from './digital.ts';
import { dottedLine, stripe, zigzag } from './lines.ts';
import { canny } from './canny.ts';
import type { CorruptFn, ImageU8 } from './image.ts';

export type { ImageU8 } from './image.ts';

export interface CorruptionInfo {
  name: string;
  /** Severities 1..severities are valid. */
  severities: number;
  /** Whose parameter table: 'mnist-c' (corruptions.py) or 'imagenet-c' (make_cifar_c.py). */
  source: 'mnist-c' | 'imagenet-c';
  /** Whether the seed matters (false: the output depends on the image and severity only). */
  random: boolean;
  /** MNIST-C only: the one severity its released dataset uses (the function's default). */
  datasetSeverity?: number;
}

interface Entry extends CorruptionInfo { apply: CorruptFn }

const ENTRIES: readonly Entry[] = [
  { name: 'shot_noise', severities: 5, source: 'mnist-c', random: true, datasetSeverity: 5, apply: shotNoise },
  { name: 'impulse_noise', severities: 5, source: 'mnist-c', random: true, datasetSeverity: 4, apply: impulseNoise },
  { name: 'gaussian_noise', severities: 5, source: 'imagenet-c', random: true, apply: gaussianNoise },
  { name: 'defocus_blur', severities: 5, source: 'imagenet-c', random: false, apply: defocusBlur },
  { name: 'glass_blur', severities: 5, source: 'mnist-c', random: true, datasetSeverity: 1, apply: glassBlur },
  { name: 'motion_blur', severities: 5, source: 'mnist-c', random: true, datasetSeverity: 1, apply: motionBlur },
  { name: 'brightness', severities: 5, source: 'mnist-c', random: false, datasetSeverity: 5, apply: brightness },
  { name: 'contrast', severities: 5, source: 'imagenet-c', random: false, apply: contrast },
  { name: 'fog', severities: 5, source: 'mnist-c', random: true, datasetSeverity: 5, apply: fog },
  { name: 'pixelate', severities: 5, source: 'imagenet-c', random: false, apply: pixelate },
  { name: 'jpeg_compression', severities: 5, source: 'imagenet-c', random: false, apply: jpegCompression },
  { name: 'rotate', severities: 5, source: 'mnist-c', random: true, datasetSeverity: 2, apply: rotate },
  { name: 'shear', severities: 5, source: 'mnist-c', random: true, datasetSeverity: 2, apply: shear },
  { name: 'scale', severities: 5, source: 'mnist-c', random: false, datasetSeverity: 3, apply: scale },
  { name: 'translate', severities: 5, source: 'mnist-c', random: true, datasetSeverity: 3, apply: translate },
  { name: 'stripe', severities: 1, source: 'mnist-c', random: false, datasetSeverity: 1, apply: stripe },
  { name: 'zigzag', severities: 1, source: 'mnist-c', random: true, datasetSeverity: 1, apply: zigzag },
  { name: 'dotted_line', severities: 1, source: 'mnist-c', random: true, datasetSeverity: 1, apply: dottedLine },
  { name: 'spatter', severities: 5, source: 'mnist-c', random: true, datasetSeverity: 4, apply: spatter },
  { name: 'canny_edges', severities: 1, source: 'mnist-c', random: false, datasetSeverity: 1, apply: canny },
];

const BY_NAME = new Map(ENTRIES.map((e) => [e.name, e]));

export const CORRUPTIONS: readonly CorruptionInfo[] = ENTRIES.map(({ apply: _apply, ...info }) => Object.freeze(info));

export function corruptionNames(): string[] {
  return ENTRIES.map((e) => e.name);
}

export class CorruptionError extends Error {
  override name = 'CorruptionError';
}

function entry(name: string): Entry {
  const e = BY_NAME.get(name);
  if (!e) throw new CorruptionError(`unknown corruption "${name}"; choose from ${corruptionNames().join(', ')}`);
  return e;
}

function checkImage(image: ImageU8): void {
  const { data, height, width, channels } = image;
  if (channels !== 1 && channels !== 3) throw new CorruptionError(`image has ${channels} channels; corruptions take 1 or 3`);
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new CorruptionError(`image size ${width}×${height} is not a positive whole number of pixels`);
  }
  if (data.length !== height * width * channels) {
    throw new CorruptionError(`image data holds ${data.length} bytes; ${width}×${height}×${channels} needs ${height * width * channels}`);
  }
}

/**
 * Corrupts one image. Same (image, name, severity, seed) → same bytes on every runtime; the
 * output has the image's shape. Throws a CorruptionError naming an unknown corruption or a
 * severity out of range, with the valid choices.
 */
export function corrupt(image: ImageU8, name: string, severity: number, seed: number): ImageU8 {
  const e = entry(name);
  if (!Number.isInteger(severity) || severity < 1 || severity > e.severities) {
    throw new CorruptionError(`severity ${severity} is out of range for ${name}; it takes ${e.severities === 1 ? 'only 1' : `1 to ${e.severities}`}`);
  }
  checkImage(image);
  return e.apply(image, severity, mulberry32(seedFor(seed, name)));
}

/** 'all' → every name; 'a,b' → those names (trimmed, duplicates dropped). Unknown names are an error naming them. */
export function parseCorruptionList(spec: string): string[] {
  const text = spec.trim();
  if (text === 'all') return corruptionNames();
  const names = [...new Set(text.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
  if (names.length === 0) throw new CorruptionError(`no corruption named in "${spec}"; give "all" or names from ${corruptionNames().join(', ')}`);
  const unknown = names.filter((n) => !BY_NAME.has(n));
  if (unknown.length > 0) {
    throw new CorruptionError(`unknown corruption${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}; choose "all" or from ${corruptionNames().join(', ')}`);
  }
  return names;
}

/** The seed image `index` of a set gets from the set's seed: what corruptImages uses, so one image can be redone alone. */
export function imageSeed(seed: number, index: number): number {
  return seedFor(seed, 'image', index);
}

/**
 * Corrupts a set of n equal-sized images, `images` [n × height × width × channels] HWC, image i
 * with seed imageSeed(seed, i). Returns a new array of the same layout.
 */
export function corruptImages(images: Uint8Array, shape: { height: number; width: number; channels: 1 | 3 }, name: string, severity: number, seed: number): Uint8Array {
  const size = shape.height * shape.width * shape.channels;
  if (size === 0 || images.length % size !== 0) {
    throw new CorruptionError(`image set holds ${images.length} bytes, not a whole number of ${shape.width}×${shape.height}×${shape.channels} images`);
  }
  const out = new Uint8Array(images.length);
  for (let i = 0, n = images.length / size; i < n; i++) {
    const image = { data: images.subarray(i * size, (i + 1) * size), ...shape };
    out.set(corrupt(image, name, severity, imageSeed(seed, i)).data, i * size);
  }
  return out;
}
