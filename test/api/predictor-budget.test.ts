/** The predictor memory budget: whole levels evicted LRU, every level still answered, a clear 422 past it. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startNodeServer, type NodeServer } from '../../api/node.ts';
import { PredictorCache } from '../../api/predictor-cache.ts';
import type { Predictor } from '../../lib/model/index.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function fakeLevel(bytes: number, released: string[], name: string): Predictor[] {
  return [{ memoryBytes: bytes, release: () => released.push(name) } as unknown as Predictor];
}

describe('PredictorCache', () => {
  it('evicts whole levels least recently used, and frees their weights', async () => {
    const released: string[] = [];
    const cache = new PredictorCache(250);
    const use = (name: string) => cache.with(name, `level ${name}`, 100, async () => fakeLevel(100, released, name), () => name);
    await use('a');
    await use('b');
    await use('a'); // b is now least recently used
    await use('c'); // 300 > 250: b goes
    expect(cache.held()).toEqual(['a', 'c']);
    await new Promise((r) => setTimeout(r, 0));
    expect(released).toEqual(['b']);
    expect(cache.stats).toEqual({ loads: 3, evictions: 1 });
    expect(cache.usedBytes).toBe(200);
  });

  it('never evicts a level in use: a request needing its room waits for it', async () => {
    const cache = new PredictorCache(150);
    let finish!: () => void;
    const order: string[] = [];
    const first = cache.with('a', 'level a', 100, async () => fakeLevel(100, [], 'a'), () => new Promise<void>((r) => { finish = r; }).then(() => order.push('a done')));
    await new Promise((r) => setTimeout(r, 0));
    const second = cache.with('b', 'level b', 100, async () => fakeLevel(100, [], 'b'), () => order.push('b ran'));
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]);
    finish();
    await Promise.all([first, second]);
    expect(order).toEqual(['a done', 'b ran']);
  });

  it('refuses a level larger than the whole budget, naming both sizes', async () => {
    const cache = new PredictorCache(1024 * 1024);
    await expect(cache.with('x', 'level p50 of run r', 3 * 1024 * 1024, async () => [], () => 0)).rejects.toMatchObject({
      status: 422, code: 'over_memory_budget', message: expect.stringMatching(/level p50 of run r needs 3\.0 MB .* budget of 1\.0 MB/),
    });
  });
});

describe('API under a small predictor budget (Node)', () => {
  let small: NodeServer, tiny: NodeServer;
  beforeAll(async () => {
    // One tiny-run level of K = 4 is ~0.9 MB: 1.2 MB holds one level at a time. One prediction
    // thread, which holds the whole budget (several share it equally).
    small = await startNodeServer({ runsDir: inject('tinyRunDir'), port: 0, env: { PIE_PUBLIC_READS: 'true', PIE_PREDICTOR_BUDGET_MB: '1.2', PIE_UPLOAD_THREADS: '1' } });
    tiny = await startNodeServer({ runsDir: inject('tinyRunDir'), port: 0, env: { PIE_PUBLIC_READS: 'true', PIE_PREDICTOR_BUDGET_MB: '0.1', PIE_UPLOAD_THREADS: '1' } });
  });
  afterAll(async () => { await small?.close(); await tiny?.close(); });

  it('still answers every level exactly, loading and evicting level by level', async () => {
    const d: Json = await (await fetch(`${small.url}/v1/runs/latest/images/3`)).json();
    const png = await (await fetch(`${small.url}/v1/runs/latest/images/3/image.png`)).arrayBuffer();
    for (let r = 0; r < 2; r++) {
      const live = await fetch(`${small.url}/v1/runs/latest/predict`, { method: 'POST', body: png, headers: { 'content-type': 'image/png' } });
      expect(live.status).toBe(200);
      expect(((await live.json()) as Json).levels.map((l: Json) => l.voteCounts)).toEqual(d.levels.map((l: Json) => l.voteCounts));
    }
    // In the prediction thread, not on the event loop: this thread loaded nothing.
    const stats = small.predictorStats();
    expect(stats.threads).toBe(1);
    expect(stats.loads).toBeGreaterThan(small.repo.predictors.stats.loads);
    expect(small.repo.predictors.stats.loads).toBe(0);
    expect(stats.evictions).toBeGreaterThan(0);
    expect(stats.usedBytes).toBeGreaterThan(0);
    expect(stats.usedBytes).toBeLessThanOrEqual(1.2 * 1024 * 1024);
  });

  it('refuses with a 422 naming the budget and the level size when a level cannot fit', async () => {
    const png = await (await fetch(`${tiny.url}/v1/runs/latest/images/3/image.png`)).arrayBuffer();
    const r = await fetch(`${tiny.url}/v1/runs/latest/predict`, { method: 'POST', body: png, headers: { 'content-type': 'image/png' } });
    expect(r.status).toBe(422);
    const body = (await r.json()) as Json;
    expect(body.error.code).toBe('over_memory_budget');
    expect(body.error.message).toMatch(/level dense of run .* needs \d+\.\d MB of model weights, more than the predictor memory budget of 0\.1 MB/);
  });
});
