/**
 * Publish throughput: MB/s from a local run folder to an S3-compatible bucket — by default a
 * local s3rver started here on loopback (so the figure is this machine's client and server
 * together, not a network's). Publishes one synthetic run of `--large` multipart-sized files
 * and `--small` model-sized files, then the same run again (everything skipped).
 * Usage: npm run bench:publish -- [--large 6] [--large-mb 32] [--small 100] [--small-kb 512] [--concurrency 8]
 *        [--endpoint URL --bucket NAME [--prefix P]]  (a real bucket; credentials from the AWS environment)
 */
import { randomFillSync, createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from '../../node/bench-args.ts';
import { MANIFEST_VERSION, RUN_FILES, type FileEntry, type Manifest } from '../../lib/manifest.ts';
import { startLocalS3, type LocalS3 } from '../dev/local-s3.ts';
import { publishRun } from '../publish.ts';
import { FsStore } from '../../node/store-fs.ts';
import { S3Store } from '../../node/store-s3.ts';

const values = benchArgs('Publish throughput to an S3-compatible bucket (a local one by default): npm run bench:publish -- [options]', {
  large: { type: 'string', default: '6' },
  'large-mb': { type: 'string', default: '32' },
  small: { type: 'string', default: '100' },
  'small-kb': { type: 'string', default: '512' },
  concurrency: { type: 'string', default: '8' },
  endpoint: { type: 'string' },
  bucket: { type: 'string' },
  prefix: { type: 'string', default: 'bench' },
});

const runId = `bench-${Date.now()}`;
const dir = mkdtempSync(join(tmpdir(), 'pie-bench-publish-'));
const source = new FsStore(dir);
const files: FileEntry[] = [];
const add = async (path: string, bytes: number) => {
  const data = randomFillSync(new Uint8Array(bytes));
  await source.put(`${runId}/${path}`, data);
  files.push({ path, bytes, sha256: createHash('sha256').update(data).digest('hex'), kind: 'other' });
};
for (let i = 0; i < Number(values.large); i++) await add(`large/${i}.bin`, Number(values['large-mb']) * 1024 * 1024);
for (let i = 0; i < Number(values.small); i++) await add(`small/${i}.bin`, Number(values['small-kb']) * 1024);

// A minimal valid manifest around those files: publish reads nothing else.
const manifest: Manifest = {
  schemaVersion: MANIFEST_VERSION, runId, createdAt: new Date().toISOString(),
  dataset: { name: 'bench', source: 'random bytes', trainSize: 1, testSize: 1, numClasses: 2, classNames: ['a', 'b'], imageShape: [1, 1] },
  architecture: { name: 'none', dims: [1, 2] },
  engine: { backend: 'none', provider: 'none', tfjsVersion: 'none', workers: 1 },
  K: 1,
  levels: [{ name: 'dense', kind: 'dense', sparsity: 0, format: 'dense-f32', members: [] }],
  settings: {},
  metrics: {
    levels: [], kernelAgreement: 1,
    training: { examplesPerSecondPerWorker: 0, examplesPerSecondTotal: 0, seconds: 0 },
    evaluation: { imagesPerSecond: 0, seconds: 0 },
  },
  files,
};
await source.put(`${runId}/${RUN_FILES.manifest}`, JSON.stringify(manifest));

let local: LocalS3 | null = null;
if (!values.endpoint) {
  local = await startLocalS3({ bucket: 'pie-bench' });
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
}
const bucket = new S3Store({
  bucket: values.bucket ?? local!.bucket, prefix: values.prefix, endpoint: values.endpoint ?? local!.endpoint,
});
try {
  const total = files.reduce((a, f) => a + f.bytes, 0);
  console.log(`publishing ${files.length} files, ${(total / 1e6).toFixed(0)} MB (${values.large} × ${values['large-mb']} MiB multipart, ` +
    `${values.small} × ${values['small-kb']} KiB) to ${local ? 'a local s3rver on 127.0.0.1' : bucket.url}, ${values.concurrency} at once`);
  const first = await publishRun(source, bucket, runId, { concurrency: Number(values.concurrency) });
  console.log(`first publish:  ${(first.uploadedBytes / 1e6 / first.seconds).toFixed(1)} MB/s (${first.uploaded} objects in ${first.seconds.toFixed(2)} s)`);
  const again = await publishRun(source, bucket, runId, { concurrency: Number(values.concurrency) });
  console.log(`re-publish:     ${again.skipped} objects found in place and skipped in ${again.seconds.toFixed(2)} s`);
} finally {
  await local?.stop();
  rmSync(dir, { recursive: true, force: true });
}
