/**
 * Live predictions on Node run in the upload pool's worker threads, not on the event loop: the
 * server's own thread loads no model, a damaged model file is still refused as a damaged run,
 * and the answers are exactly the precomputed ones.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { startNodeServer, type NodeServer } from '../../api/node.ts';
import { parseManifest } from '../../lib/manifest.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const servers: NodeServer[] = [];
afterAll(async () => { await Promise.all(servers.map((s) => s.close())); });
const start = async (runsDir: string) => {
  const s = await startNodeServer({ runsDir, port: 0, env: { PIE_PUBLIC_READS: 'true', PIE_UPLOAD_THREADS: '1' } });
  servers.push(s);
  return s;
};

describe('live prediction in the worker pool (Node)', () => {
  it('answers an uploaded dataset image exactly as precomputed, with the models loaded in the thread only', async () => {
    const s = await start(inject('tinyRunDir'));
    for (const i of [0, 5]) {
      const d: Json = await (await fetch(`${s.url}/v1/runs/latest/images/${i}`)).json();
      const png = await (await fetch(`${s.url}/v1/runs/latest/images/${i}/image.png`)).arrayBuffer();
      const live: Json = await (await fetch(`${s.url}/v1/runs/latest/predict`, { method: 'POST', body: png, headers: { 'content-type': 'image/png' } })).json();
      expect(live.levels.map((l: Json) => l.memberPredictions)).toEqual(d.levels.map((l: Json) => l.memberPredictions));
    }
    const manifest = parseManifest(readFileSync(join(inject('tinyRunDir'), readFileSync(join(inject('tinyRunDir'), 'latest'), 'utf8').trim(), 'manifest.json'), 'utf8'));
    // Every level loaded once, in the one prediction thread; none in the server's own thread.
    expect(s.predictorStats()).toMatchObject({ threads: 1, loads: manifest.levels.length, evictions: 0 });
    expect(s.repo.predictors.stats.loads).toBe(0);
  });

  it('refuses a run whose model file is damaged as corrupt_run (500), and keeps serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pie-damaged-model-'));
    cpSync(inject('tinyRunDir'), dir, { recursive: true });
    const runId = readFileSync(join(dir, 'latest'), 'utf8').trim();
    const manifest = parseManifest(readFileSync(join(dir, runId, 'manifest.json'), 'utf8'));
    const model = manifest.levels[1].members[0].model;
    const file = join(dir, runId, model);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(file, bytes);
    const s = await start(dir);
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const png = await (await fetch(`${s.url}/v1/runs/latest/images/2/image.png`)).arrayBuffer();
      const r = await fetch(`${s.url}/v1/runs/latest/predict`, { method: 'POST', body: png, headers: { 'content-type': 'image/png' } });
      expect(r.status).toBe(500);
      const body = (await r.json()) as Json;
      expect(body.error.code).toBe('corrupt_run');
      expect(body.error.message).toContain(`${model} does not match its manifest`);
      // Levels that are intact still predict; lookups still answer.
      const dense = await fetch(`${s.url}/v1/runs/latest/predict?levels=dense`, { method: 'POST', body: png, headers: { 'content-type': 'image/png' } });
      expect(dense.status).toBe(200);
      expect((await fetch(`${s.url}/v1/runs/latest/images/2`)).status).toBe(200);
    } finally {
      error.mockRestore();
    }
  });
});
