/*
 * CIFAR-10 / CIFAR-100 in their binary layout (the "binary version" archives):
 *   CIFAR-10:  data_batch_1.bin … data_batch_5.bin, test_batch.bin; records of 1 label byte +
 *              3072 pixel bytes; class names in batches.meta.txt, one per line.
 *   CIFAR-100: train.bin, test.bin; records of 1 coarse label byte, 1 fine label byte + 3072
 *              pixel bytes; names in fine_label_names.txt / coarse_label_names.txt.
 * Pixels are stored as three 32×32 planes (all red, then green, then blue, row-major); we
 * interleave them to HWC, the layout of every run's images.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetError, type Split } from './data.ts';

export const CIFAR_SIDE = 32;
const PLANE = CIFAR_SIDE * CIFAR_SIDE;
const PIXELS = 3 * PLANE;

export type CifarLabels = 'fine' | 'coarse';

export interface CifarData {
  variant: 'cifar-10' | 'cifar-100';
  /** The folder the .bin files are in (the given one, or its extracted-archive subfolder). */
  dir: string;
  classNames: string[];
  /** Images uint8 [n × 32 × 32 × 3]. */
  train: Split;
  test: Split;
}

/** The folder holding the .bin files: `dir` itself or the folder the archive extracts to. */
export function findCifarDir(dir: string): { dir: string; variant: CifarData['variant'] } | null {
  for (const d of [dir, join(dir, 'cifar-10-batches-bin'), join(dir, 'cifar-100-binary')]) {
    if (existsSync(join(d, 'data_batch_1.bin')) && existsSync(join(d, 'test_batch.bin'))) return { dir: d, variant: 'cifar-10' };
    if (existsSync(join(d, 'train.bin')) && existsSync(join(d, 'test.bin'))) return { dir: d, variant: 'cifar-100' };
  }
  return null;
}

function names(path: string): string[] | null {
  if (!existsSync(path)) return null;
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  return lines.length ? lines : null;
}

/** Reads records from CIFAR .bin files into one split; `labelByte` picks the label among the header bytes. */
function readRecords(paths: string[], header: number, labelByte: number, numClasses: number, limit?: number): Split {
  const record = header + PIXELS;
  const files = paths.map((p) => {
    const bytes = readFileSync(p);
    if (bytes.length === 0 || bytes.length % record !== 0) {
      throw new DatasetError(`${p}: ${bytes.length} bytes is not a whole number of ${record}-byte CIFAR records (${header} label byte(s) + 3072 pixels); is it the binary (not Python) version?`);
    }
    return { p, bytes };
  });
  const total = files.reduce((a, f) => a + f.bytes.length / record, 0);
  const n = Math.min(total, limit ?? total);
  const images = new Uint8Array(n * PIXELS);
  const labels = new Uint8Array(n);
  let i = 0;
  for (const { p, bytes } of files) {
    for (let at = 0; at < bytes.length && i < n; at += record, i++) {
      const label = bytes[at + labelByte];
      if (label >= numClasses) throw new DatasetError(`${p}: record ${at / record} has label ${label}; CIFAR labels here are 0…${numClasses - 1}`);
      labels[i] = label;
      const src = at + header;
      const out = i * PIXELS;
      for (let q = 0; q < PLANE; q++) {
        images[out + 3 * q] = bytes[src + q];
        images[out + 3 * q + 1] = bytes[src + PLANE + q];
        images[out + 3 * q + 2] = bytes[src + 2 * PLANE + q];
      }
    }
  }
  return { images, labels, n };
}

/** Loads CIFAR-10 or CIFAR-100 (fine labels by default) from `dir`; see the top of this file. */
export function loadCifar(dir: string, opts: { labels?: CifarLabels; trainLimit?: number; testLimit?: number } = {}): CifarData {
  const found = findCifarDir(dir);
  if (!found) {
    throw new DatasetError(`${dir} holds no CIFAR binary files: expected data_batch_1.bin … data_batch_5.bin and test_batch.bin (CIFAR-10) or train.bin and test.bin (CIFAR-100), there or in cifar-10-batches-bin/ or cifar-100-binary/`);
  }
  const d = found.dir;
  if (found.variant === 'cifar-10') {
    if (opts.labels === 'coarse') throw new DatasetError(`${d} is CIFAR-10, which has no coarse labels`);
    const batches = [1, 2, 3, 4, 5].map((k) => join(d, `data_batch_${k}.bin`)).filter((p) => existsSync(p));
    const classNames = names(join(d, 'batches.meta.txt')) ?? Array.from({ length: 10 }, (_, c) => String(c));
    return {
      variant: 'cifar-10', dir: d, classNames,
      train: readRecords(batches, 1, 0, classNames.length, opts.trainLimit),
      test: readRecords([join(d, 'test_batch.bin')], 1, 0, classNames.length, opts.testLimit),
    };
  }
  const coarse = opts.labels === 'coarse';
  const classNames = names(join(d, coarse ? 'coarse_label_names.txt' : 'fine_label_names.txt'))
    ?? Array.from({ length: coarse ? 20 : 100 }, (_, c) => String(c));
  const labelByte = coarse ? 0 : 1;
  return {
    variant: 'cifar-100', dir: d, classNames,
    train: readRecords([join(d, 'train.bin')], 2, labelByte, classNames.length, opts.trainLimit),
    test: readRecords([join(d, 'test.bin')], 2, labelByte, classNames.length, opts.testLimit),
  };
}
