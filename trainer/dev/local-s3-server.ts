/**
 * A local S3-compatible server (s3rver) on loopback, for trying `pie publish` without an account
 * and for the storage tests. Start it through `startLocalS3()` (trainer/dev/local-s3.ts) or
 * `npm run s3:local`: it must run under `node --openssl-legacy-provider`, because s3rver's
 * ListObjectsV2 continuation tokens use a cipher that OpenSSL 3 keeps in its legacy provider.
 * Prints one JSON line `{ endpoint, bucket, directory }` on stdout once it listens.
 * Usage: local-s3-server.ts [--port 0] [--bucket pie-lens-runs] [--dir <folder>]
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
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
atomicPuts(server);
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${port}`, bucket: values.bucket, directory })}\n`);
const stop = () => { void server.close().then(() => process.exit(0)); };
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

/**
 * s3rver's filesystem store writes an object in place (truncate, then write) and answers the PUT
 * before the bytes are on disk, so a GET racing a PUT of the same key reads a truncated object.
 * S3, R2 and MinIO replace an object atomically: readers see the old bytes or the new, never a
 * mix — which is what two `pie aggregate --if-complete` finishing together rely on when both
 * write the same quantized member. So the store's putObject is replaced here by one that writes
 * a temporary file beside the object, waits for it, and renames it into place.
 */
function atomicPuts(s3: S3rver): void {
  interface StoredObject { bucket: string; key: string; metadata: Record<string, string>; content: Buffer | Readable }
  interface FilesystemStore {
    getResourcePath(bucket: string, key: string, resource: string): string;
    putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
    putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
  }
  const store = (s3 as unknown as { store: FilesystemStore }).store;
  store.putObject = async (object) => {
    let content: Buffer;
    if (Buffer.isBuffer(object.content)) content = object.content;
    else {
      const chunks: Buffer[] = [];
      for await (const chunk of object.content) chunks.push(chunk as Buffer);
      content = Buffer.concat(chunks);
    }
    const target = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, content);
      await rename(tmp, target);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
    const md5 = createHash('md5').update(content).digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size: content.length, md5 };
  };
}
