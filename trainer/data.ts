import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { mulberry32 } from '../lib/random.ts';

/** A split of an image-classification dataset: uint8 pixels [n × rows × cols], uint8 labels [n]. */
export interface Split {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

export interface Dataset {
  name: string;
  /** Where it came from, for the manifest: a directory, or "synthetic(seed=…)". */
  source: string;
  rows: number;
  cols: number;
  numClasses: number;
  classNames: string[];
  train: Split;
  test: Split;
}

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
  'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

export type DatasetConfig =
  | { kind: 'idx'; name: string; dir: string; classNames?: string[]; trainLimit?: number; testLimit?: number }
  | { kind: 'synthetic'; name: string; seed: number; train: number; test: number; classes: number };

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
    const labels = new Uint8Array(n);
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
  return {
    name: cfg.name,
    source: `synthetic(seed=${cfg.seed})`,
    rows, cols,
    numClasses: cfg.classes,
    classNames: Array.from({ length: cfg.classes }, (_, c) => `class ${c}`),
    train: make(cfg.train),
    test: make(cfg.test),
  };
}

export function loadDataset(cfg: DatasetConfig): Dataset {
  if (cfg.kind === 'synthetic') return synthetic(cfg);
  const train = readSplit(cfg.dir, 'train', cfg.trainLimit);
  const test = readSplit(cfg.dir, 't10k', cfg.testLimit);
  let numClasses = 0;
  for (const l of train.split.labels) numClasses = Math.max(numClasses, l + 1);
  const classNames = cfg.classNames ?? (cfg.dir === FASHION_MNIST_DIR || cfg.name === 'fashion-mnist'
    ? FASHION_MNIST_CLASSES
    : Array.from({ length: numClasses }, (_, c) => String(c)));
  numClasses = Math.max(numClasses, classNames.length);
  return { name: cfg.name, source: cfg.dir, rows: train.rows, cols: train.cols, numClasses, classNames, train: train.split, test: test.split };
}
