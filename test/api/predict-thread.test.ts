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
import { createUploadPool, splitCount, splitLevels } from '../../api/upload-pool.ts';
import { datasetMemberPredictions } from '../../api/answer.ts';
import { RunRepository } from '../../api/runs.ts';
import { PIXEL_SCALE } from '../../lib/model/types.ts';
import { FsStore } from '../../node/store-fs.ts';
import { parseManifest } from '../../lib/manifest.ts';
import { encodePng } from '../../lib/image/index.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const servers: NodeServer[] = [];
afterAll(async () => { await Promise.all(servers.map((s) => s.close())); });
const start = async (runsDir: string, threads = 1) => {
  const s = await startNodeServer({ runsDir, port: 0, env: { PIE_PUBLIC_READS: 'true', PIE_UPLOAD_THREADS: String(threads) } });
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

  it('spreads a prediction\'s levels over the idle threads once their times are known, with the precomputed answers', async () => {
    const run = await new RunRepository(new FsStore(inject('tinyRunDir'))).get('latest');
    const pool = createUploadPool({ threads: 2, splitMinMs: 0 });
    try {
      for (const [r, i] of [0, 3, 7, 8].entries()) {
        const input = Float32Array.from(await run.image(i), (v) => v * PIXEL_SCALE);
        expect(Array.from(await pool.predict(run, input))).toEqual(Array.from(datasetMemberPredictions(run, i)));
        // The first prediction, its levels not yet timed, is one task; the next are split in two.
        expect(pool.predictTasks()).toBe(1 + 2 * r);
        if (r === 0) expect(pool.predictorStats()).toMatchObject({ threads: 1, loads: run.levels });
      }
    } finally {
      await pool.close();
    }
  });

  it('prepares and predicts an upload in one task, split only like a prediction, and refuses a bad image there', async () => {
    const run = await new RunRepository(new FsStore(inject('tinyRunDir'))).get('latest');
    const shape = { width: 28, height: 28, channels: 1 as const, datasetPolarity: run.manifest.dataset.polarity, polarity: 'keep' as const };
    const upload = async (i: number) => ({ kind: 'bytes' as const, bytes: encodePng(await run.image(i), 28, 28, 1), contentType: 'image/png', ...shape });
    const one = createUploadPool({ threads: 1 });
    const two = createUploadPool({ threads: 2, splitMinMs: 0 });
    try {
      for (const [r, i] of [1, 4, 9].entries()) {
        const { prepared, predictions } = await one.upload(run, await upload(i));
        expect(Array.from(predictions)).toEqual(Array.from(datasetMemberPredictions(run, i)));
        expect(prepared.preprocessing).toMatchObject({ format: 'png' });
        expect([one.tasks(), one.predictTasks()]).toEqual([r + 1, r + 1]);
        // Two idle threads: the first upload (levels not yet timed) is one task, the next a prepare and a split prediction.
        expect(Array.from((await two.upload(run, await upload(i))).predictions)).toEqual(Array.from(datasetMemberPredictions(run, i)));
        expect([two.tasks(), two.predictTasks()]).toEqual(r === 0 ? [1, 1] : [3 * r + 1, 2 * r + 1]);
      }
      const bad = { ...(await upload(0)), bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]) };
      await expect(one.upload(run, bad)).rejects.toMatchObject({ name: 'ImageError' });
      expect(Array.from((await one.upload(run, await upload(2))).predictions)).toEqual(Array.from(datasetMemberPredictions(run, 2)));
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('splits only a prediction whose levels are all timed and took at least the minimum, over the idle threads', () => {
    expect(splitCount([0.5, undefined, 2], 4, 1)).toBe(1);
    expect(splitCount([0.2, 0.3], 4, 1)).toBe(1);
    expect(splitCount([0.5, 0.6, 2], 4, 1)).toBe(3);
    expect(splitCount([0.5, 0.6, 2], 2, 1)).toBe(2);
    expect(splitCount([0.5, 0.6, 2], 0, 1)).toBe(1);
  });

  it('splits levels into groups of about equal weight, each in level order', () => {
    const levels = [100, 10, 60, 50, 40, 5].map((fileBytes, t) => ({ t, fileBytes }));
    const groups = splitLevels(levels, 2, (l) => l.fileBytes);
    expect(groups.map((g) => g.map((l) => l.t))).toEqual([[0, 4], [1, 2, 3, 5]]);
    expect(groups.map((g) => g.reduce((a, l) => a + l.fileBytes, 0))).toEqual([140, 125]);
    expect(splitLevels(levels, 9, (l) => l.fileBytes)).toHaveLength(6);
    expect(splitLevels(levels, 1, (l) => l.fileBytes)).toEqual([levels]);
    expect(splitLevels(levels, 2, (l) => (l.t === 5 ? 1000 : 1)).map((g) => g.map((l) => l.t))).toEqual([[5], [0, 1, 2, 3, 4]]);
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
