/**
 * A local S3-compatible server (s3rver) on loopback, for trying `pie publish` without an account
 * and for the storage tests. Start it through `startLocalS3()` (trainer/dev/local-s3.ts) or
 * `npm run s3:local`: it must run under `node --openssl-legacy-provider`, because s3rver's
 * ListObjectsV2 continuation tokens use a cipher that OpenSSL 3 keeps in its legacy provider.
 * Prints one JSON line `{ endpoint, bucket, directory }` on stdout once it listens.
 * Usage: local-s3-server.ts [--port 0] [--bucket pie-lens-runs] [--dir <folder>]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import S3rver from 's3rver';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    bucket: { type: 'string', default: 'pie-lens-runs' },
    dir: { type: 'string' },
  },
});
const directory = values.dir ?? mkdtempSync(join(tmpdir(), 'pie-local-s3-'));
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(values.port),
  directory,
  silent: true,
  configureBuckets: [{ name: values.bucket, configs: [] }],
});
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${port}`, bucket: values.bucket, directory })}\n`);
const stop = () => { void server.close().then(() => process.exit(0)); };
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
