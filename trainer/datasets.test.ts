import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage, toModelInput } from '../lib/image/index.ts';
import { parseManifest } from '../lib/manifest.ts';
import { datasetIdentity, DatasetError, detectFormat, loadDataset } from './data.ts';
import { DATASET_IMAGE_LIMITS } from './decode-images.ts';
import { stratifiedSplit } from './folder.ts';
import { cifarPixel, writeCifar10, writeCifar100, writeColorFolder } from './testing.ts';

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `pie-${name}-`));
const folderCfg = (dir: string, extra: object = {}) => ({ kind: 'folder' as const, name: 'f', dir, ...extra });

describe('image folder', () => {
  const good = writeColorFolder(tmp('folder'));

  it('reads train/ and test/ with sorted class names, in colour, at the most common size', async () => {
    const ds = await loadDataset(folderCfg(good.dir), { workers: 2 });
    expect(ds.format).toBe('folder');
    expect(ds.classNames).toEqual(['bird', 'cat', 'dog']);
    expect([ds.rows, ds.cols, ds.channels]).toEqual([24, 24, 3]);
    expect(ds.train.n).toBe(36);
    expect(ds.test.n).toBe(13); // 4 per class + the CMYK JPEG
    expect(ds.train.images.length).toBe(36 * 24 * 24 * 3);
    expect(datasetIdentity(ds).classCounts).toEqual({ train: [12, 12, 12], test: [4, 4, 5] });
  });

  it('gives every file exactly the pixels lib/image gives an upload of it (odd sizes, JPEG, CMYK, 16-bit, palette, gray)', async () => {
    const ds = await loadDataset(folderCfg(good.dir));
    const px = 24 * 24 * 3;
    // Files in ImageFolder order: class by class, sorted paths.
    const order = (split: string) => good.classes.flatMap((c) => readdirSync(join(good.dir, split, c)).sort().map((f) => `${split}/${c}/${f}`));
    const check = (split: string, images: Uint8Array, rel: string) => {
      const i = order(split).indexOf(rel);
      expect(i, rel).toBeGreaterThanOrEqual(0);
      const upload = toModelInput(decodeImage(readFileSync(join(good.dir, rel)), undefined, DATASET_IMAGE_LIMITS, { color: true }),
        { width: 24, height: 24, channels: 3, polarity: 'auto', datasetPolarity: ds.polarity });
      expect(upload.steps.inverted).toBe(false);
      expect(Buffer.from(images.subarray(i * px, (i + 1) * px)).equals(Buffer.from(upload.pixels)), rel).toBe(true);
      return images.subarray(i * px, (i + 1) * px);
    };
    for (const rel of [good.special.cmyk, good.special.jpeg, 'test/cat/img001.png', 'test/dog/img002.png']) check('test', ds.test.images, rel);
    for (const rel of [good.special.png16, good.special.palette]) check('train', ds.train.images, rel);
    const gray = check('train', ds.train.images, good.special.gray);
    for (let q = 0; q < 24 * 24; q++) expect(gray[3 * q]).toBe(gray[3 * q + 1]);
    // The CMYK JPEG is a light-grey (K = 30) rectangle on black, in colour: not all black, grey where lit.
    const cmyk = check('test', ds.test.images, good.special.cmyk);
    const centre = 3 * (12 * 24 + 12);
    expect(cmyk[centre]).toBeGreaterThan(200);
    expect(Math.abs(cmyk[centre] - cmyk[centre + 2])).toBeLessThanOrEqual(2);
    expect(cmyk[0]).toBeLessThan(10);
  });

  it('lists every broken or non-image file in one error, or skips and counts them', async () => {
    const dir = tmp('broken');
    const f = writeColorFolder(dir, { broken: true });
    writeFileSync(join(dir, 'train', 'cat', 'notes.txt'), 'not an image');
    writeFileSync(join(dir, 'train', 'cat', '.DS_Store'), 'hidden files are ignored');
    const err = await loadDataset(folderCfg(dir)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toMatch(/2 file\(s\) in .* are not images or could not be decoded/);
    expect((err as Error).message).toContain(`${f.special.broken}: JPEG is truncated`);
    expect((err as Error).message).toContain('train/cat/notes.txt: ');
    expect((err as Error).message).toMatch(/--skip-bad-images/);
    const ds = await loadDataset(folderCfg(dir, { skipBadImages: true }));
    expect(ds.train.n).toBe(36);
    const id = datasetIdentity(ds);
    expect(id.skipped.count).toBe(2);
    expect(id.skipped.files.map((s) => s.path).sort()).toEqual([f.special.broken, 'train/cat/notes.txt']);
  });

  it('without a test folder, splits each class by a seeded stratified draw', async () => {
    const dir = tmp('nosplit');
    writeColorFolder(dir, { train: 10, test: 0, classes: ['a', 'b', 'c', 'd'] });
    const a = await loadDataset(folderCfg(dir, { testFraction: 0.2 }));
    const id = datasetIdentity(a);
    // 10 files per class (class d also holds the CMYK JPEG: round(11 · 0.2) = 2 as well).
    expect(id.classCounts!.test).toEqual([2, 2, 2, 2]);
    const again = datasetIdentity(await loadDataset(folderCfg(dir, { testFraction: 0.2 })));
    const other = datasetIdentity(await loadDataset(folderCfg(dir, { testFraction: 0.2, splitSeed: 5 })));
    expect(again.fingerprint).toBe(id.fingerprint);
    expect(other.fingerprint).not.toBe(id.fingerprint);
    expect(other.classCounts).toEqual(id.classCounts);
  });

  it('stratifiedSplit holds out round(n · f) per class, at least one of two or more', () => {
    const labels = [...Array(10).fill(0), ...Array(3).fill(1), 2];
    const { train, test } = stratifiedSplit(labels, 3, 0.2, 1);
    expect(test.map((i) => labels[i]).sort()).toEqual([0, 0, 1]);
    expect(train.length + test.length).toBe(labels.length);
  });

  it('resizes with --image-size and drops colour with --grayscale', async () => {
    const ds = await loadDataset(folderCfg(good.dir, { imageSize: 16, grayscale: true }));
    expect([ds.rows, ds.cols, ds.channels]).toEqual([16, 16, 1]);
    expect(ds.test.images.length).toBe(13 * 256);
  });

  it('is detected, and refuses a test class the training folder lacks', async () => {
    expect(detectFormat(good.dir)).toBe('folder');
    const dir = tmp('extra');
    writeColorFolder(dir, { classes: ['a', 'b'] });
    writeColorFolder(join(dir, 'x'), { classes: ['zebra'] });
    const { renameSync } = await import('node:fs');
    renameSync(join(dir, 'x', 'test', 'zebra'), join(dir, 'test', 'zebra'));
    await expect(loadDataset(folderCfg(dir))).rejects.toThrow(/class folder 'zebra' that the training folder lacks/);
  });
});

describe('CIFAR binary', () => {
  it('reads CIFAR-10 batches, interleaving the colour planes to HWC, with names from batches.meta.txt', async () => {
    const dir = tmp('cifar10');
    const { names } = writeCifar10(dir, 6, 5);
    expect(detectFormat(dir)).toBe('cifar');
    const ds = await loadDataset({ kind: 'cifar', name: 'c', dir });
    expect(ds.classNames).toEqual(names);
    expect([ds.rows, ds.cols, ds.channels, ds.train.n, ds.test.n]).toEqual([32, 32, 3, 30, 5]);
    expect(ds.train.labels[13]).toBe(3);
    // Image 13, pixel q = 40 (row 1, column 8): R, G, B from the three planes.
    const at = 13 * 3072 + 3 * 40;
    expect([...ds.train.images.subarray(at, at + 3)]).toEqual([0, 1, 2].map((ch) => cifarPixel(13, ch, 40)));
    expect(ds.numClasses).toBe(10);
  });

  it('reads CIFAR-100 with fine labels by default, coarse on request', async () => {
    const dir = tmp('cifar100');
    writeCifar100(dir, 12, 6);
    const fine = await loadDataset({ kind: 'cifar', name: 'c', dir });
    expect(fine.numClasses).toBe(100);
    expect(fine.classNames[7]).toBe('fine7');
    expect([...fine.train.labels.subarray(0, 3)]).toEqual([0, 7, 14]);
    const coarse = await loadDataset({ kind: 'cifar', name: 'c', dir, labels: 'coarse' });
    expect(coarse.numClasses).toBe(20);
    expect([...coarse.train.labels.subarray(0, 3)]).toEqual([0, 3, 6]);
    const small = await loadDataset({ kind: 'cifar', name: 'c', dir, imageSize: 8, grayscale: true });
    expect([small.rows, small.cols, small.channels]).toEqual([8, 8, 1]);
  });

  it('names a damaged file', async () => {
    const dir = tmp('cifarbad');
    writeCifar10(dir, 2, 2);
    writeFileSync(join(dir, 'test_batch.bin'), new Uint8Array(3000));
    await expect(loadDataset({ kind: 'cifar', name: 'c', dir })).rejects.toThrow(/test_batch.bin: 3000 bytes is not a whole number of 3073-byte CIFAR records/);
  });
});

describe('dataset identity', () => {
  it('fingerprints content: the same data gives the same fingerprint, one changed pixel another', async () => {
    const dir = tmp('fp');
    writeCifar10(dir, 2, 3);
    const a = datasetIdentity(await loadDataset({ kind: 'cifar', name: 'c', dir }));
    const b = datasetIdentity(await loadDataset({ kind: 'cifar', name: 'c', dir }));
    expect(b.fingerprint).toBe(a.fingerprint);
    const bytes = readFileSync(join(dir, 'test_batch.bin'));
    bytes[100] ^= 1;
    writeFileSync(join(dir, 'test_batch.bin'), bytes);
    const c = datasetIdentity(await loadDataset({ kind: 'cifar', name: 'c', dir }));
    expect(c.fingerprint).not.toBe(a.fingerprint);
  });

  it('version 1 manifests load, upgraded to version 2', () => {
    const v1 = {
      schemaVersion: 1, runId: 'old', createdAt: '2026-01-01T00:00:00Z',
      dataset: { name: 'fashion-mnist', source: '/data/fm', trainSize: 10, testSize: 5, numClasses: 10, classNames: [], imageShape: [28, 28] },
      architecture: { name: 'lenet-300-100', dims: [784, 300, 100, 10] },
      engine: { backend: 'wasm', provider: 'wasm', tfjsVersion: '4', workers: 1 },
      K: 2, levels: [{ name: 'dense', kind: 'dense', sparsity: 0, format: 'dense-f32', members: [] }], settings: {},
      metrics: { levels: [], kernelAgreement: 1, training: { examplesPerSecondPerWorker: 0, examplesPerSecondTotal: 0, seconds: 0 }, evaluation: { imagesPerSecond: 0, seconds: 0 } },
      files: [],
    };
    const m = parseManifest(JSON.stringify(v1));
    expect(m.schemaVersion).toBe(2);
    expect(m.dataset).toMatchObject({ format: 'idx', inputShape: [28, 28, 1], polarity: 'light-on-dark', fingerprint: null, skipped: { count: 0 } });
  });
});
