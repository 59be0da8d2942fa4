import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DatasetError, loadDataset, parseIdx } from './data.ts';

function idx(dims: number[], data: Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(head.buffer);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  return new Uint8Array([...head, ...data]);
}

describe('IDX reader', () => {
  it('reads plain and gzipped files alike', () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    const plain = parseIdx(idx([2, 3, 4], data), 'x');
    const gz = parseIdx(gzipSync(idx([2, 3, 4], data)), 'x');
    expect(plain.dims).toEqual([2, 3, 4]);
    expect([...gz.data]).toEqual([...data]);
  });
  it('names the problem in truncated or foreign files', () => {
    expect(() => parseIdx(idx([5, 3, 4], new Uint8Array(10)), 'f.idx')).toThrow(/f.idx: truncated/);
    expect(() => parseIdx(new TextEncoder().encode('hello world'), 'g')).toThrow(/not an unsigned-byte IDX/);
  });
  it('loads an MNIST-layout folder, with limits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'idx-'));
    const n = 6;
    const images = Uint8Array.from({ length: n * 28 * 28 }, (_, i) => i % 251);
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 3);
    for (const prefix of ['train', 't10k']) {
      writeFileSync(join(dir, `${prefix}-images-idx3-ubyte.gz`), gzipSync(idx([n, 28, 28], images)));
      writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), idx([n], labels));
    }
    const ds = await loadDataset({ kind: 'idx', name: 'mine', dir, trainLimit: 4 });
    expect(ds.train.n).toBe(4);
    expect(ds.test.n).toBe(6);
    expect(ds.numClasses).toBe(3);
    expect(ds.train.images.length).toBe(4 * 784);
  });
  it('says how to get a missing dataset', async () => {
    await expect(loadDataset({ kind: 'idx', name: 'x', dir: join(tmpdir(), 'no-such-dataset') })).rejects.toThrow(DatasetError);
    await expect(loadDataset({ kind: 'idx', name: 'x', dir: '/usr/share/datasets/fashion-mnist-missing' })).rejects.toThrow(/--data-dir/);
  });
});

describe('synthetic dataset', () => {
  it('is reproducible from its seed', async () => {
    const a = await loadDataset({ kind: 'synthetic', name: 's', seed: 4, train: 50, test: 10, classes: 5 });
    const b = await loadDataset({ kind: 'synthetic', name: 's', seed: 4, train: 50, test: 10, classes: 5 });
    const c = await loadDataset({ kind: 'synthetic', name: 's', seed: 5, train: 50, test: 10, classes: 5 });
    expect(a.train.images).toEqual(b.train.images);
    expect(a.train.images).not.toEqual(c.train.images);
    expect(Math.max(...a.train.labels)).toBeLessThan(5);
  });
});
