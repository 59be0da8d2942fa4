import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { lumaOverBlack } from '../lib/image/color.ts';
import { borderMean, datasetPolarityOf, toModelInput, type DatasetPolarity } from '../lib/image/index.ts';
import { type ClassArray, classArrayToBytes, classBytesFor, newClassArray } from '../lib/class-array.ts';
import type { DatasetInfo } from '../lib/manifest.ts';
import { mulberry32 } from '../lib/random.ts';
import { findCifarDir, loadCifar, type CifarLabels } from './cifar.ts';
import { loadFolder, looksLikeImageFolder } from './folder.ts';
import type { Progress } from './progress.ts';

/**
 * A split of an image-classification dataset: uint8 pixels [n × rows × cols × channels] (HWC),
 * class indices [n] one byte each up to 256 classes and two above (lib/class-array.ts).
 */
export interface Split {
  images: Uint8Array;
  labels: ClassArray;
  n: number;
  /** Image folders: each image's file path relative to the dataset folder (attribute files may name images by it). */
  paths?: string[];
}

export type DatasetFormat = 'idx' | 'cifar' | 'folder' | 'synthetic';

export interface Dataset {
  name: string;
  /** Where it came from, for the manifest: a directory, or "synthetic(seed=…)". */
  source: string;
  format: DatasetFormat;
  rows: number;
  cols: number;
  /** 1 (luminance) or 3 (RGB, interleaved). */
  channels: 1 | 3;
  numClasses: number;
  classNames: string[];
  train: Split;
  test: Split;
  /** From the images' border rings; decides what the API's polarity=auto does (lib/image/preprocess.ts). */
  polarity: DatasetPolarity;
  /** Files left out with --skip-bad-images (image folders), relative paths with the reason. */
  skipped: { path: string; reason: string }[];
}

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
  'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** Resizing / grayscale conversion asked of a CIFAR or folder dataset (lib/image preprocessing). */
interface ShapeOptions { imageSize?: number; grayscale?: boolean }

export type DatasetConfig =
  | { kind: 'idx'; name: string; dir: string; classNames?: string[]; trainLimit?: number; testLimit?: number }
  | { kind: 'synthetic'; name: string; seed: number; train: number; test: number; classes: number }
  | ({ kind: 'cifar'; name: string; dir: string; labels?: CifarLabels; classNames?: string[]; trainLimit?: number; testLimit?: number } & ShapeOptions)
  | ({ kind: 'folder'; name: string; dir: string; testFraction?: number; splitSeed?: number; skipBadImages?: boolean } & ShapeOptions);

/** What loading may use: worker threads for decoding image folders, and a progress display. */
export interface LoadOptions { workers?: number; progress?: Progress }

export class DatasetError extends Error {}

/** Parses one IDX file (gzipped or plain): magic 0x00000801 (labels) or 0x00000803 (images). */
export function parseIdx(bytes: Uint8Array, what: string): { dims: number[]; data: Uint8Array } {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  if (bytes.length < 8) throw new DatasetError(`${what}: ${bytes.length} bytes is too short for an IDX file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== 0 || bytes[2] !== 0x08) {
    throw new DatasetError(`${what}: not an unsigned-byte IDX file (magic ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join('')})`);
  }
  const rank = bytes[3];
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d));
  const offset = 4 + 4 * rank;
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length < offset + count) {
    throw new DatasetError(`${what}: truncated (header says ${count} values, file holds ${bytes.length - offset})`);
  }
  return { dims, data: bytes.subarray(offset, offset + count) };
}

function findFile(dir: string, stem: string): string | null {
  for (const name of [`${stem}.gz`, stem, stem.replace('-idx', '.idx')]) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}

function readSplit(dir: string, prefix: 'train' | 't10k', limit?: number): { split: Split; rows: number; cols: number } {
  const imagesPath = findFile(dir, `${prefix}-images-idx3-ubyte`);
  const labelsPath = findFile(dir, `${prefix}-labels-idx1-ubyte`);
  if (!imagesPath || !labelsPath) {
    const hint = dir === FASHION_MNIST_DIR
      ? 'Install Fashion-MNIST with: sudo apt-get install -y dataset-fashion-mnist'
      : 'Point --data-dir at a folder holding train-/t10k-images-idx3-ubyte[.gz] and train-/t10k-labels-idx1-ubyte[.gz] (the MNIST layout).';
    throw new DatasetError(`dataset not found: ${dir} has no ${prefix}-images-idx3-ubyte[.gz] / ${prefix}-labels-idx1-ubyte[.gz]. ${hint}`);
  }
  const images = parseIdx(readFileSync(imagesPath), imagesPath);
  const labels = parseIdx(readFileSync(labelsPath), labelsPath);
  if (images.dims.length !== 3 || labels.dims.length !== 1) throw new DatasetError(`${imagesPath}: expected images [n, rows, cols] and labels [n]`);
  if (images.dims[0] !== labels.dims[0]) {
    throw new DatasetError(`${prefix}: ${images.dims[0]} images but ${labels.dims[0]} labels`);
  }
  const [total, rows, cols] = images.dims;
  const n = Math.min(total, limit ?? total);
  return {
    split: { images: images.data.slice(0, n * rows * cols), labels: labels.data.slice(0, n), n },
    rows,
    cols,
  };
}

/**
 * A seeded, learnable stand-in for an image dataset (tests, offline demos): every class has a
 * random smooth prototype; an example is its prototype, shifted by up to a pixel, plus noise.
 */
function synthetic(cfg: Extract<DatasetConfig, { kind: 'synthetic' }>): Dataset {
  const rows = 28, cols = 28, px = rows * cols;
  const rand = mulberry32(cfg.seed);
  const protos = Array.from({ length: cfg.classes }, () => {
    const p = new Float32Array(px);
    for (let b = 0; b < 6; b++) {
      const cy = 4 + rand() * 20, cx = 4 + rand() * 20, r = 2 + rand() * 5, a = 0.5 + rand() * 0.5;
      for (let y = 0; y < rows; y++) for (let x = 0; x < cols; x++) {
        const d2 = (y - cy) ** 2 + (x - cx) ** 2;
        p[y * cols + x] += a * Math.exp(-d2 / (2 * r * r));
      }
    }
    return p;
  });
  const make = (n: number): Split => {
    const images = new Uint8Array(n * px);
    const labels = newClassArray(n, classBytesFor(cfg.classes));
    for (let i = 0; i < n; i++) {
      const c = Math.floor(rand() * cfg.classes);
      labels[i] = c;
      const dy = Math.floor(rand() * 3) - 1, dx = Math.floor(rand() * 3) - 1;
      for (let y = 0; y < rows; y++) for (let x = 0; x < cols; x++) {
        const sy = Math.min(rows - 1, Math.max(0, y + dy)), sx = Math.min(cols - 1, Math.max(0, x + dx));
        const v = protos[c][sy * cols + sx] + (rand() - 0.5) * 0.6;
        images[i * px + y * cols + x] = Math.max(0, Math.min(255, Math.round(v * 200)));
      }
    }
    return { images, labels, n };
  };
  const train = make(cfg.train), test = make(cfg.test);
  return {
    name: cfg.name,
    source: `synthetic(seed=${cfg.seed})`,
    format: 'synthetic',
    rows, cols, channels: 1,
    polarity: polarityOf([train, test], rows, cols, 1),
    skipped: [],
    numClasses: cfg.classes,
    classNames: Array.from({ length: cfg.classes }, (_, c) => `class ${c}`),
    train, test,
  };
}

/** Loads the dataset a config names; image folders are decoded in `opts.workers` threads. */
export async function loadDataset(cfg: DatasetConfig, opts: LoadOptions = {}): Promise<Dataset> {
  if (cfg.kind === 'synthetic') return synthetic(cfg);
  if (cfg.kind === 'cifar') return cifar(cfg);
  if (cfg.kind === 'folder') {
    const f = await loadFolder(cfg.dir, { ...cfg, workers: opts.workers, progress: opts.progress });
    return {
      name: cfg.name, source: cfg.dir, format: 'folder', rows: f.height, cols: f.width, channels: f.channels,
      numClasses: f.classNames.length, classNames: f.classNames, train: f.train, test: f.test, polarity: f.polarity, skipped: f.skipped,
    };
  }
  const train = readSplit(cfg.dir, 'train', cfg.trainLimit);
  const test = readSplit(cfg.dir, 't10k', cfg.testLimit);
  let numClasses = 0;
  for (const l of train.split.labels) numClasses = Math.max(numClasses, l + 1);
  const classNames = cfg.classNames ?? (cfg.dir === FASHION_MNIST_DIR || cfg.name === 'fashion-mnist'
    ? FASHION_MNIST_CLASSES
    : Array.from({ length: numClasses }, (_, c) => String(c)));
  numClasses = Math.max(numClasses, classNames.length);
  return {
    name: cfg.name, source: cfg.dir, format: 'idx', rows: train.rows, cols: train.cols, channels: 1, numClasses, classNames,
    train: train.split, test: test.split, polarity: polarityOf([train.split, test.split], train.rows, train.cols, 1), skipped: [],
  };
}

function cifar(cfg: Extract<DatasetConfig, { kind: 'cifar' }>): Dataset {
  const c = loadCifar(cfg.dir, cfg);
  const classNames = cfg.classNames ?? c.classNames;
  // Polarity from the images as stored: an upload of one is judged at its own size, like these.
  const polarity = polarityOf([c.train, c.test], 32, 32, 3);
  const side = cfg.imageSize ?? 32;
  const channels: 1 | 3 = cfg.grayscale ? 1 : 3;
  const reshape = (s: Split) => resizeSplit(s, 32, 32, 3, side, side, channels);
  return {
    name: cfg.name, source: c.dir, format: 'cifar', rows: side, cols: side, channels, numClasses: classNames.length, classNames,
    train: reshape(c.train), test: reshape(c.test), polarity, skipped: [],
  };
}

/** Luminance ring mean of one HWC image (lib/image's borderMean of its luma plane). */
function ringMean(images: Uint8Array, at: number, h: number, w: number, c: number): number {
  if (c === 1) return borderMean(images.subarray(at, at + h * w), w, h);
  let sum = 0, count = 0;
  const luma = (y: number, x: number) => {
    const p = at + (y * w + x) * c;
    sum += lumaOverBlack(images[p], images[p + 1], images[p + 2], 255);
    count++;
  };
  for (let y = 0; y < h; y++) {
    if (y === 0 || y === h - 1) for (let x = 0; x < w; x++) luma(y, x);
    else { luma(y, 0); if (w > 1) luma(y, w - 1); }
  }
  return sum / count;
}

function polarityOf(splits: Split[], h: number, w: number, c: number): DatasetPolarity {
  const means: number[] = [];
  for (const s of splits) for (let i = 0; i < s.n; i++) means.push(ringMean(s.images, i * h * w * c, h, w, c));
  return datasetPolarityOf(means);
}

/** Every image through lib/image's preprocessing to another size or channel count (a no-op when equal). */
function resizeSplit(s: Split, h: number, w: number, c: 1 | 3, H: number, W: number, C: 1 | 3): Split {
  if (h === H && w === W && c === C) return s;
  const px = h * w * c, PX = H * W * C;
  const images = new Uint8Array(s.n * PX);
  for (let i = 0; i < s.n; i++) {
    const src = s.images.subarray(i * px, (i + 1) * px);
    let gray = src, rgb: Uint8Array | undefined;
    if (c === 3) {
      rgb = src;
      gray = new Uint8Array(h * w);
      for (let q = 0; q < h * w; q++) gray[q] = lumaOverBlack(src[3 * q], src[3 * q + 1], src[3 * q + 2], 255);
    }
    const out = toModelInput({ width: w, height: h, gray, rgb, hadAlpha: false, format: 'pixels' }, { width: W, height: H, channels: C, polarity: 'keep' });
    images.set(out.pixels, i * PX);
  }
  return { images, labels: s.labels, n: s.n };
}

/**
 * Which format a data folder holds: IDX files, CIFAR binary batches, or an image folder.
 * Null when it is none of them.
 */
export function detectFormat(dir: string): 'idx' | 'cifar' | 'folder' | null {
  if (findFile(dir, 'train-images-idx3-ubyte') && findFile(dir, 't10k-images-idx3-ubyte')) return 'idx';
  if (findCifarDir(dir)) return 'cifar';
  if (looksLikeImageFolder(dir)) return 'folder';
  return null;
}

/**
 * The manifest's dataset block: format, shape, classes, counts per class and split, polarity,
 * skipped files, and the SHA-256 fingerprint of what the models see (shape, class names, and
 * each split's labels and pixels in order) — the same data always gives the same fingerprint.
 */
export function datasetIdentity(data: Dataset): DatasetInfo {
  const counts = (s: Split) => {
    const out = new Array<number>(data.numClasses).fill(0);
    for (const l of s.labels) out[l]++;
    return out;
  };
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ inputShape: [data.rows, data.cols, data.channels], classNames: data.classNames, train: data.train.n, test: data.test.n }));
  for (const s of [data.train, data.test]) {
    hash.update(classArrayToBytes(s.labels));
    hash.update(s.images);
  }
  return {
    name: data.name, source: data.source, format: data.format,
    trainSize: data.train.n, testSize: data.test.n, numClasses: data.numClasses, classNames: data.classNames,
    imageShape: [data.rows, data.cols], inputShape: [data.rows, data.cols, data.channels],
    classCounts: { train: counts(data.train), test: counts(data.test) },
    fingerprint: hash.digest('hex'),
    polarity: data.polarity,
    skipped: { count: data.skipped.length, files: data.skipped.slice(0, 100) },
  };
}
