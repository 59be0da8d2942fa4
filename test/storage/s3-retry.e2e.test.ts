/**
 * One layer of retries: a failed S3 request is retried by the AWS SDK inside S3Store (its
 * standard strategy, `maxAttempts` tries in all), and publishRun adds none on top. Between the
 * store and a real S3-compatible server (s3rver) sits a relay that answers chosen PUTs with
 * 503 SlowDown and counts what reaches it.
 */
import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { latestRunId } from '../../lib/store.ts';
import { FsStore } from '../../node/store-fs.ts';
import { S3Store } from '../../node/store-s3.ts';
import { startLocalS3, type LocalS3 } from '../../trainer/dev/local-s3.ts';
import { publishRun } from '../../trainer/publish.ts';

Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });

const runsDir = inject('tinyRunDir');
const runId = readFileSync(join(runsDir, 'latest'), 'utf8').trim();
const source = new FsStore(runsDir);
let s3: LocalS3;

beforeAll(async () => { s3 = await startLocalS3({ bucket: 'pie-retry' }); });
afterAll(() => s3?.stop());

interface Relay { url: string; puts: number; close(): Promise<void> }

/** Forwards to s3rver, except that the first `failures` PUTs whose path ends with `suffix` get a 503 SlowDown. */
async function startRelay(target: URL, suffix: string, failures: number): Promise<Relay> {
  const relay = { puts: 0 } as Relay;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const counted = req.method === 'PUT' && req.url!.split('?')[0].endsWith(suffix);
    if (counted && ++relay.puts <= failures) {
      req.resume();
      req.once('end', () => {
        res.writeHead(503, { 'Content-Type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      });
      return;
    }
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
    });
    upstream.once('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  relay.close = () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  return relay;
}

describe('retries of S3 requests', () => {
  it('a PUT answered 503 twice is retried by the SDK and the run goes up whole', async () => {
    const relay = await startRelay(new URL(s3.endpoint), '/predictions.bin', 2);
    try {
      const dst = new S3Store({ bucket: s3.bucket, prefix: 'twice', endpoint: relay.url });
      const r = await publishRun(source, dst, runId);
      expect(relay.puts).toBe(3);
      expect(r.retries).toBe(0);
      const direct = new S3Store({ bucket: s3.bucket, prefix: 'twice', endpoint: s3.endpoint });
      expect(await direct.get(`${runId}/predictions.bin`)).toEqual(new Uint8Array(readFileSync(join(runsDir, runId, 'predictions.bin'))));
      expect(await latestRunId(direct)).toBe(runId);
    } finally {
      await relay.close();
    }
  });

  it('a PUT that keeps failing is tried maxAttempts times in all, not maxAttempts × another layer', async () => {
    const relay = await startRelay(new URL(s3.endpoint), '/predictions.bin', Infinity);
    try {
      const dst = new S3Store({ bucket: s3.bucket, prefix: 'always', endpoint: relay.url, maxAttempts: 3 });
      await expect(publishRun(source, dst, runId)).rejects.toThrow(/reduce your request rate|SlowDown/);
      expect(relay.puts).toBe(3);
      const direct = new S3Store({ bucket: s3.bucket, prefix: 'always', endpoint: s3.endpoint });
      expect(await direct.head(`${runId}/manifest.json`)).toBeNull();
      expect(await latestRunId(direct)).toBeNull();
    } finally {
      await relay.close();
    }
  });
});
