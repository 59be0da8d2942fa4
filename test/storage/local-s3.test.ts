/**
 * The local S3-compatible server the storage tests and `npm run s3:local` use must replace an
 * object atomically, as S3, R2 and MinIO do: a reader racing a writer of the same key gets the
 * old bytes or the new ones, never a truncated mix. Sharded runs rely on it when two shards
 * aggregate at once and both write the same quantized members.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../trainer/dev/local-s3.ts';
import { S3Store } from '../../node/store-s3.ts';

Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
let s3: LocalS3;
let store: S3Store;
beforeAll(async () => {
  s3 = await startLocalS3({ bucket: 'pie-atomic' });
  store = new S3Store({ bucket: s3.bucket, prefix: 'runs', endpoint: s3.endpoint });
});
afterAll(() => s3?.stop());

it('a GET racing PUTs of the same key reads one whole version', async () => {
  const size = 4 << 20;
  const versions = [1, 2].map((v) => new Uint8Array(size).fill(v));
  await store.put('r/model.bin', versions[0]);
  const seen = { whole: 0, torn: [] as string[] };
  const writer = (async () => {
    for (let i = 0; i < 16; i++) await store.put('r/model.bin', versions[(i + 1) % 2]);
  })();
  let writing = true;
  void writer.finally(() => { writing = false; });
  while (writing) {
    const got = await store.get('r/model.bin');
    const whole = !!got && got.length === size && got.every((b) => b === got[0]);
    if (whole) seen.whole++;
    else seen.torn.push(got ? `${got.length} bytes, first ${got[0]}, last ${got[got.length - 1]}` : 'missing');
  }
  await writer;
  expect(seen.torn).toEqual([]);
  expect(seen.whole).toBeGreaterThan(0);
}, 60_000);
