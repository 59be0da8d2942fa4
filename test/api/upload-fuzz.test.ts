/**
 * Fuzz-style: random and truncated bytes thrown at the upload endpoints over HTTP. Every answer
 * must be a 200 or a 4xx with a JSON error body — never a 500, never a dropped connection.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startNodeServer, type NodeServer } from '../../api/node.ts';
import { mulberry32 } from '../../lib/random.ts';

let server: NodeServer;
let png: Uint8Array;
beforeAll(async () => {
  server = await startNodeServer({ runsDir: inject('tinyRunDir'), port: 0, env: { PIE_PUBLIC_READS: 'true' } });
  png = new Uint8Array(await (await fetch(`${server.url}/v1/runs/latest/images/0/image.png?scale=3`)).arrayBuffer());
});
afterAll(() => server?.close());

function mutate(rand: () => number, src: Uint8Array): Uint8Array {
  const kind = Math.floor(rand() * 4);
  if (kind === 0) return src.slice(0, Math.floor(rand() * src.length)); // truncated
  if (kind === 1) return Uint8Array.from({ length: Math.floor(rand() * 2048) }, () => Math.floor(rand() * 256)); // noise
  const out = src.slice();
  const flips = 1 + Math.floor(rand() * 16);
  for (let f = 0; f < flips; f++) out[Math.floor(rand() * out.length)] = Math.floor(rand() * 256); // flipped bytes
  return kind === 2 ? out : out.slice(Math.floor(rand() * 64)); // or a shifted header
}

describe('upload endpoints under random and truncated bytes', () => {
  it('answer 200 or a 4xx JSON error, never a 500', async () => {
    const rand = mulberry32(20261125);
    const statuses = new Map<number, number>();
    const types = ['image/png', 'image/jpeg', 'application/octet-stream', 'application/json', 'multipart/form-data; boundary=xyz'];
    for (let i = 0; i < 400; i++) {
      const body = mutate(rand, png);
      const type = types[i % types.length];
      const path = i % 7 === 0 ? '/ml/predict' : '/v1/runs/latest/predict';
      const r = await fetch(`${server.url}${path}`, { method: 'POST', body, headers: { 'content-type': path === '/ml/predict' ? 'application/json' : type } });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      expect(r.status, `request ${i} (${type}, ${body.length} bytes)`).toBeLessThan(500);
      if (r.status !== 200) expect((await r.json() as { error: { code: string } }).error.code).toBeTruthy();
      else await r.arrayBuffer();
    }
    // The mutations reached the decoders: both refusals and some survivors occurred.
    expect([...statuses.keys()].some((s) => s >= 400)).toBe(true);
  }, 120_000);
});
