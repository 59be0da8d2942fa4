/**
 * Store trouble while serving: with the S3 server (s3rver on loopback) killed, the run already in
 * memory keeps serving as `latest` and the run list as it was, both marked stale, and /health says
 * `degraded`; a damaged run is refused from a cached failure, not re-read and re-hashed per request.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { createApp } from '../../api/app.ts';
import { optionsFromEnv } from '../../api/context.ts';
import { RunRepository } from '../../api/runs.ts';
import type { Store } from '../../lib/store.ts';
import { startLocalS3, type LocalS3 } from '../../trainer/dev/local-s3.ts';
import { FsStore } from '../../node/store-fs.ts';
import { S3Store } from '../../node/store-s3.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });

const options = optionsFromEnv({ PIE_PUBLIC_READS: 'true' });
let s3: LocalS3 | undefined;
afterAll(() => s3?.stop());

describe('store outage', () => {
  it('keeps serving the last good latest and run list, marked stale, and /health says degraded', async () => {
    s3 = await startLocalS3({ bucket: 'pie-outage' });
    const store = new S3Store({ bucket: s3.bucket, prefix: 'runs', endpoint: s3.endpoint });
    const dir = inject('tinyRunDir');
    for (const rel of readdirSync(dir, { recursive: true }) as string[]) {
      try { await store.put(rel.split('\\').join('/'), readFileSync(join(dir, rel))); } catch { /* a directory */ }
    }
    const app = createApp(new RunRepository(store, { latestTtlMs: 50, retryMs: 50 }), options);
    const runId = ((await (await app.request('/v1/runs/latest')).json()) as Json).runId;
    expect((await app.request('/v1/runs')).status).toBe(200);
    expect((await app.request('/health')).headers.get('x-stale')).toBeNull();

    await s3.stop();
    await new Promise((r) => setTimeout(r, 120));
    const overview = await app.request('/v1/runs/latest');
    expect(overview.status).toBe(200);
    expect(((await overview.json()) as Json).runId).toBe(runId);
    expect(overview.headers.get('x-stale')).toMatch(/store has been unreachable since/);
    expect(overview.headers.get('cache-control')).toBe('no-store');
    const image = await app.request('/v1/runs/latest/images/3');
    expect(image.status).toBe(200);
    expect(image.headers.get('x-stale')).toBeTruthy();
    const list = await app.request('/v1/runs');
    expect(list.status).toBe(200);
    expect(await list.json()).toMatchObject({ latest: runId, runs: [runId], stale: expect.stringMatching(/unreachable/) });
    const health = (await (await app.request('/health')).json()) as Json;
    expect(health).toMatchObject({ status: 'degraded', latestRun: runId, reasons: [expect.stringMatching(/store has been unreachable/)] });
    // A run never loaded cannot be served from memory: an error, not a hang.
    expect((await app.request('/v1/runs/other-run')).status).toBe(500);
  });
});

describe('damaged run', () => {
  it('is refused from a cached failure: read and hashed once, logged once, shown on /health', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pie-damaged-'));
    cpSync(inject('tinyRunDir'), dir, { recursive: true });
    const runId = readFileSync(join(dir, 'latest'), 'utf8').trim();
    const file = join(dir, runId, 'predictions.bin');
    const bytes = readFileSync(file);
    bytes[0] ^= 0xff;
    writeFileSync(file, bytes);
    const fs = new FsStore(dir);
    let reads = 0;
    const counting: Store = { ...fs, get: (key) => { if (key.startsWith(`${runId}/`)) reads++; return fs.get(key); }, head: (k) => fs.head(k), list: (p) => fs.list(p), put: (k, d) => fs.put(k, d) };
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const app = createApp(new RunRepository(counting), options);
      for (let i = 0; i < 20; i++) {
        const r = await app.request(`/v1/runs/${runId}/images/${i}`);
        expect(r.status).toBe(500);
        expect(((await r.json()) as Json).error.code).toBe('corrupt_run');
      }
      expect(reads).toBe(5); // manifest and the four files it lists for a run, once
      expect(error).toHaveBeenCalledTimes(1);
      expect(String(error.mock.calls[0][0])).toMatch(/predictions\.bin does not match its manifest/);
      const health = (await (await app.request('/health')).json()) as Json;
      expect(health.status).toBe('degraded');
      expect(health.reasons.join('\n')).toMatch(new RegExp(`run ${runId} is damaged`));
    } finally {
      error.mockRestore();
    }
  });
});
