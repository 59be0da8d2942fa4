/*
 * Image folders, as torchvision's ImageFolder reads them:
 *   DIR/train/<class>/**  and  DIR/test/<class>/**  (or DIR/val/<class>/**)
 *   DIR/<class>/**        (no train/: the whole folder is split)
 * Class names are the train folder's subfolder names, sorted by code point (Python's sorted());
 * files are taken in sorted path order. Without a test (or val) folder, a seeded stratified split
 * puts round(n_c · testFraction) of each class c (at least one when the class has two or more)
 * into the test set. Hidden files (names starting with '.') are ignored; every other file must be
 * a PNG or JPEG that decodes, or it is listed in one error (or left out with skipBadImages and
 * counted in the manifest).
 *
 * Decoding runs in the worker pool: a header pass (size, colour) and a decode pass that writes
 * each image, preprocessed by lib/image as the API preprocesses uploads, into one shared array
 * per split. Memory: those arrays (n × h × w × c bytes) plus one file per worker.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { classBytesFor, MAX_CLASSES, newClassArray } from '../lib/class-array.ts';
import { datasetPolarityOf, type DatasetPolarity } from '../lib/image/index.ts';
import { mulberry32, permutation } from '../lib/random.ts';
import { DatasetError, type Split } from './data.ts';
import type { ProbeResult } from './decode-images.ts';
import { WorkerPool } from './pool.ts';
import type { Progress } from './progress.ts';
import type { WorkerMessage } from './worker.ts';

export interface FolderOptions {
  /** Fraction of each class held out when there is no test folder. Default 0.2. */
  testFraction?: number;
  /** Seeds the stratified split. Default 0. */
  splitSeed?: number;
  /** Leave out files that are not images or do not decode (counted), instead of failing. */
  skipBadImages?: boolean;
  /** Resize every image to size × size (default: the images' own size, the most common one if they differ). */
  imageSize?: number;
  /** Luminance only (default: colour when any image is colour). */
  grayscale?: boolean;
  workers?: number;
  progress?: Progress;
}

export interface FolderData {
  classNames: string[];
  height: number;
  width: number;
  channels: 1 | 3;
  train: Split;
  test: Split;
  polarity: DatasetPolarity;
  /** Files left out (skipBadImages), relative to the folder, with the reason. */
  skipped: { path: string; reason: string }[];
  /** How the test set was made. */
  split: 'test' | 'val' | 'stratified';
}

/** Files decoded per worker task. */
const BATCH = 64;

const byCodePoint = (a: string, b: string) => {
  const x = [...a], y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d) return d;
  }
  return x.length - y.length;
};

function isDir(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}

function visible(dir: string): string[] {
  return readdirSync(dir).filter((n) => !n.startsWith('.')).sort(byCodePoint);
}

/** Every visible file under `dir`, recursively, in sorted path order. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of visible(dir)) {
    const p = join(dir, name);
    if (isDir(p)) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

/** Whether `dir` looks like an image folder dataset (train/ with class folders, or class folders). */
export function looksLikeImageFolder(dir: string): boolean {
  if (isDir(join(dir, 'train'))) return true;
  const subs = isDir(dir) ? visible(dir).filter((n) => isDir(join(dir, n))) : [];
  return subs.length >= 2;
}

interface Listed { files: string[]; labels: number[] }

function listSplit(dir: string, classNames: string[], what: string): Listed {
  const files: string[] = [];
  const labels: number[] = [];
  const known = new Map(classNames.map((c, i) => [c, i]));
  for (const name of visible(dir)) {
    const p = join(dir, name);
    if (!isDir(p)) continue;
    const c = known.get(name);
    if (c === undefined) {
      throw new DatasetError(`${what} has a class folder '${name}' that the training folder lacks (training classes: ${classNames.slice(0, 20).join(', ')}${classNames.length > 20 ? ', …' : ''})`);
    }
    for (const f of filesUnder(p)) { files.push(f); labels.push(c); }
  }
  return { files, labels };
}

/** Seeded stratified split: per class, a shuffled round(n · fraction) (≥ 1 if n ≥ 2) go to test. */
export function stratifiedSplit(labels: number[], numClasses: number, fraction: number, seed: number): { train: number[]; test: number[] } {
  const rand = mulberry32(seed);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  labels.forEach((c, i) => byClass[c].push(i));
  const test = new Set<number>();
  for (const members of byClass) {
    const n = members.length;
    let k = Math.round(n * fraction);
    if (n >= 2) k = Math.min(n - 1, Math.max(1, k));
    else k = 0;
    const order = permutation(n, rand);
    for (let j = 0; j < k; j++) test.add(members[order[j]]);
  }
  const train: number[] = [], testList: number[] = [];
  labels.forEach((_, i) => (test.has(i) ? testList : train).push(i));
  return { train, test: testList };
}

function mostCommonSize(probes: ProbeResult[]): { width: number; height: number; distinct: number } {
  const counts = new Map<string, number>();
  for (const p of probes) if (!p.error) counts.set(`${p.width}x${p.height}`, (counts.get(`${p.width}x${p.height}`) ?? 0) + 1);
  let best = '', n = -1;
  for (const [k, v] of counts) if (v > n) { best = k; n = v; }
  const [width, height] = best.split('x').map(Number);
  return { width, height, distinct: counts.size };
}

/** Loads an image folder; see the top of this file. */
export async function loadFolder(dir: string, opts: FolderOptions = {}): Promise<FolderData> {
  if (!isDir(dir)) throw new DatasetError(`${dir} is not a folder`);
  const trainDir = isDir(join(dir, 'train')) ? join(dir, 'train') : dir;
  const testName = isDir(join(dir, 'test')) ? 'test' : isDir(join(dir, 'val')) ? 'val' : null;
  const classNames = visible(trainDir).filter((n) => isDir(join(trainDir, n)) && !(trainDir === dir && ['test', 'val'].includes(n)));
  if (classNames.length < 2) {
    throw new DatasetError(`${trainDir} has ${classNames.length} class folder(s); an image folder needs one subfolder per class (at least two), as DIR/train/<class>/*.png`);
  }
  if (classNames.length > MAX_CLASSES) throw new DatasetError(`${trainDir} has ${classNames.length} classes; runs hold at most ${MAX_CLASSES} classes`);

  const train = listSplit(trainDir, classNames, trainDir);
  let test: Listed;
  let split: FolderData['split'];
  if (testName) {
    test = listSplit(join(dir, testName), classNames, join(dir, testName));
    split = testName;
  } else {
    const fraction = opts.testFraction ?? 0.2;
    const s = stratifiedSplit(train.labels, classNames.length, fraction, opts.splitSeed ?? 0);
    test = { files: s.test.map((i) => train.files[i]), labels: s.test.map((i) => train.labels[i]) };
    const all = train;
    train.files = s.train.map((i) => all.files[i]);
    train.labels = s.train.map((i) => all.labels[i]);
    split = 'stratified';
  }
  const allFiles = [...train.files, ...test.files];
  if (!train.files.length || !test.files.length) {
    throw new DatasetError(`${dir}: ${train.files.length} training and ${test.files.length} test files; both splits need images`);
  }

  const workers = Math.max(1, Math.min(opts.workers ?? 1, Math.ceil(allFiles.length / BATCH)));
  const pool = new WorkerPool(workers, { engine: 'cpu' });
  const progress = opts.progress;
  try {
    // 1. Headers: size and colour of every file.
    const probes: ProbeResult[] = new Array(allFiles.length);
    const scan = progress?.phase('scan', allFiles.length, 'files');
    await Promise.all(batches(allFiles.length).map(async ([from, to]) => {
      const msg = await pool.run({ type: 'probe', files: allFiles.slice(from, to) }) as Extract<WorkerMessage, { type: 'probed' }>;
      msg.results.forEach((r, j) => { probes[from + j] = r; });
      scan?.tick(to - from);
    }));
    const bad = new Map<number, string>();
    probes.forEach((p, i) => { if (p.error) bad.set(i, p.error); });
    // Files whose header failed are decoded anyway: the decode pass lists every failure once.
    if (bad.size === allFiles.length) throw new DatasetError(`${dir}: none of its ${allFiles.length} files is a readable PNG or JPEG (first: ${relative(dir, allFiles[0])}: ${bad.get(0)})`);
    const common = mostCommonSize(probes);
    const width = opts.imageSize ?? common.width;
    const height = opts.imageSize ?? common.height;
    const channels: 1 | 3 = opts.grayscale ? 1 : probes.some((p) => !p.error && p.color) ? 3 : 1;
    scan?.done(`${allFiles.length - bad.size} images in ${classNames.length} classes; ` +
      (opts.imageSize ? `resized to ${width}×${height}` : common.distinct > 1
        ? `${common.distinct} sizes, all resized to the most common, ${width}×${height} (set --image-size to choose)`
        : `all ${width}×${height}`) + `, ${channels === 3 ? 'colour' : 'grayscale'}`);

    // 2. Decode into one shared array per split, each image at its own index.
    const px = height * width * channels;
    const decode = progress?.phase('decode', allFiles.length, 'images');
    const started = performance.now();
    const skipped: FolderData['skipped'] = [];
    const splits = await Promise.all([train, test].map(async (s) => {
      const out = new Uint8Array(new SharedArrayBuffer(s.files.length * px));
      const ringMeans = new Float64Array(s.files.length);
      const failed = new Map<number, string>();
      await Promise.all(batches(s.files.length).map(async ([from, to]) => {
        const msg = await pool.run({ type: 'decode', files: s.files.slice(from, to), first: from, out, height, width, channels }) as Extract<WorkerMessage, { type: 'decoded' }>;
        ringMeans.set(msg.ringMeans, from);
        for (const f of msg.failures) failed.set(from + f.index, f.reason);
        decode?.tick(to - from);
      }));
      return { s, out, ringMeans, failed };
    }));
    const failures = splits.flatMap(({ s, failed }) => [...failed].map(([i, reason]) => ({ path: relPath(dir, s.files[i]), reason })));
    const kept = allFiles.length - failures.length;
    const seconds = (performance.now() - started) / 1000;
    decode?.done(`${kept} images, ${Math.round(allFiles.length / seconds)} images/s on ${workers} worker(s)` +
      (failures.length ? `; ${failures.length} bad file(s)${opts.skipBadImages ? ' skipped' : ''}` : ''));
    if (failures.length && !opts.skipBadImages) {
      const shown = failures.slice(0, 20).map((f) => `  ${f.path}: ${f.reason}`).join('\n');
      throw new DatasetError(`${failures.length} file(s) in ${dir} are not images or could not be decoded:\n${shown}` +
        `${failures.length > 20 ? `\n  … and ${failures.length - 20} more` : ''}\n` +
        'Fix or remove them, or pass --skip-bad-images to leave them out (they are counted in the run\'s manifest).');
    }
    skipped.push(...failures);

    // 3. Close the gaps the skipped files left (in place: no second copy of the images).
    const rings: number[] = [];
    const [trainSplit, testSplit] = splits.map(({ s, out, ringMeans, failed }): Split => {
      const labels = newClassArray(s.files.length, classBytesFor(classNames.length));
      const paths: string[] = [];
      let n = 0;
      for (let i = 0; i < s.files.length; i++) {
        if (failed.has(i)) continue;
        if (n !== i) out.copyWithin(n * px, i * px, (i + 1) * px);
        labels[n] = s.labels[i];
        paths.push(relPath(dir, s.files[i]));
        rings.push(ringMeans[i]);
        n++;
      }
      return { images: out.subarray(0, n * px), labels: labels.slice(0, n), n, paths };
    });
    // The test images are written to the run (eval/images.bin): give them an ordinary buffer.
    testSplit.images = testSplit.images.slice();
    if (!trainSplit.n || !testSplit.n) throw new DatasetError(`${dir}: after leaving out bad files, ${trainSplit.n} training and ${testSplit.n} test images remain`);
    return {
      classNames, height, width, channels, train: trainSplit, test: testSplit,
      polarity: datasetPolarityOf(rings), skipped, split,
    };
  } finally {
    await pool.close();
  }
}

function batches(n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let from = 0; from < n; from += BATCH) out.push([from, Math.min(n, from + BATCH)]);
  return out;
}

/** Relative path with forward slashes, for messages and the manifest. */
export function relPath(dir: string, path: string): string {
  return relative(dir, path).split(sep).join('/');
}
