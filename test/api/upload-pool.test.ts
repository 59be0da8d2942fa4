/**
 * Node decodes uploads in a worker pool with a bounded queue: the event loop keeps answering while
 * large images decode, a full queue answers 503 with Retry-After, and an image over the decode
 * budget is refused from its header, before decoding.
 */
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startNodeServer, type NodeServer } from '../../api/node.ts';

let big: Uint8Array; // 2048² 8-bit RGBA: heavy enough to see, light enough for shared test machines
let over: Uint8Array; // 4096² 16-bit RGBA: 128 MiB of samples
const servers: NodeServer[] = [];
beforeAll(() => {
  const rgba = new Uint8Array(2048 * 2048 * 4);
  for (let i = 0; i < rgba.length; i += 4) { rgba[i] = (i >> 4) & 255; rgba[i + 3] = 255; }
  big = encode({ width: 2048, height: 2048, data: rgba, channels: 4, depth: 8 });
  over = encode({ width: 4096, height: 4096, data: new Uint16Array(4096 * 4096 * 4), channels: 4, depth: 16 });
});
afterAll(() => Promise.all(servers.map((s) => s.close())));
const start = async (env: Record<string, string> = {}) => {
  const s = await startNodeServer({ runsDir: inject('tinyRunDir'), port: 0, env: { PIE_PUBLIC_READS: 'true', ...env } });
  servers.push(s);
  return s;
};
const upload = (s: NodeServer, body: Uint8Array) => fetch(`${s.url}/v1/runs/latest/predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: body as Uint8Array<ArrayBuffer> });

describe('upload worker pool', () => {
  it('answers /health while large uploads decode', { timeout: 90_000 }, async () => {
    const s = await start({ PIE_UPLOAD_THREADS: '1' });
    const order: string[] = [];
    const uploads = [0, 1].map(() => upload(s, big).then(async (r) => { order.push(`upload ${r.status}`); await r.arrayBuffer(); }));
    await new Promise((r) => setTimeout(r, 300));
    const health = fetch(`${s.url}/health`).then(async (r) => { order.push(`health ${r.status}`); await r.arrayBuffer(); });
    await Promise.all([...uploads, health]);
    expect(order[0]).toBe('health 200');
    expect(order.slice(1)).toEqual(['upload 200', 'upload 200']);
  });

  it('a full queue answers 503 with Retry-After at once', { timeout: 90_000 }, async () => {
    const s = await start({ PIE_UPLOAD_THREADS: '1', PIE_UPLOAD_QUEUE: '1' });
    const rs = await Promise.all(Array.from({ length: 5 }, () => upload(s, big)));
    const statuses = rs.map((r) => r.status).sort();
    expect(statuses.filter((x) => x === 200).length).toBeGreaterThanOrEqual(2);
    const refused = rs.filter((r) => r.status === 503);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) {
      expect(r.headers.get('retry-after')).toBe('1');
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('overloaded');
    }
  });

  it('refuses an image over the decode budget from its header', async () => {
    const s = await start();
    const r = await upload(s, over);
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/decode budget is 64\.0 MiB/);
    const tight = await start({ PIE_DECODE_BUDGET_BYTES: '100000' });
    expect((await upload(tight, big)).status).toBe(413);
  });
});
