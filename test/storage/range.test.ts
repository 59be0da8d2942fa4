/**
 * Range reads (Store.getRange) on the local file store, a real S3-compatible server (s3rver,
 * HTTP Range header) and the whole-object fallback for stores without one: the same bytes,
 * short reads at the end, null for a missing key. R2's ranged get is checked in workerd
 * (test/workers/wide-run.test.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRange, type Store } from '../../lib/store.ts';
import { startLocalS3, type LocalS3 } from '../../trainer/dev/local-s3.ts';
import { FsStore } from '../../node/store-fs.ts';
import { S3Store } from '../../node/store-s3.ts';

Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
const data = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 31 + 7) % 251);

/** A store with only the required methods, as a third-party Store would be. */
function withoutRange(store: Store): Store {
  return { get: (k) => store.get(k), put: (k, d) => store.put(k, d), head: (k) => store.head(k), list: (p) => store.list(p) };
}

let s3: LocalS3;
const stores: [string, () => Store][] = [];
beforeAll(async () => {
  s3 = await startLocalS3({ bucket: 'pie-range' });
  const fs = new FsStore(mkdtempSync(join(tmpdir(), 'pie-range-')));
  const bucket = new S3Store({ bucket: s3.bucket, prefix: 'runs', endpoint: s3.endpoint });
  for (const s of [fs, bucket]) await s.put('r/eval/images.bin', data);
  stores.push(['file store', () => fs], ['S3 store', () => bucket], ['fallback without getRange', () => withoutRange(fs)]);
}, 60_000);
afterAll(() => s3?.stop());

describe.each(['file store', 'S3 store', 'fallback without getRange'])('readRange on the %s', (name) => {
  const store = () => stores.find(([n]) => n === name)![1]();

  it('returns exactly the asked-for bytes', async () => {
    expect(Array.from((await readRange(store(), 'r/eval/images.bin', 4321, 784))!)).toEqual(Array.from(data.subarray(4321, 4321 + 784)));
    expect(Array.from((await readRange(store(), 'r/eval/images.bin', 0, 1))!)).toEqual([data[0]]);
  });

  it('returns fewer bytes at the end of the object, none past it, null when it is missing', async () => {
    expect((await readRange(store(), 'r/eval/images.bin', 9990, 100))!.length).toBe(10);
    expect((await readRange(store(), 'r/eval/images.bin', 20_000, 10))!.length).toBe(0);
    expect(await readRange(store(), 'r/eval/missing.bin', 0, 10)).toBeNull();
  });

  it('refuses a negative range', async () => {
    await expect(readRange(store(), 'r/eval/images.bin', -1, 10)).rejects.toThrow(/non-negative/);
  });
});

it('uses the store’s own range read when it has one', async () => {
  const fs = stores[0][1]() as FsStore;
  let whole = 0;
  const counting = Object.assign(Object.create(fs) as FsStore, { get: (k: string) => { whole++; return fs.get(k); } });
  await readRange(counting, 'r/eval/images.bin', 100, 10);
  expect(whole).toBe(0);
});
