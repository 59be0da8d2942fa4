/** The API's behaviours through @hono/node-server over real HTTP, serving the run from local files. */
import { Agent, get, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { startNodeServer, type NodeServer } from '../../api/node.ts';
import { apiBehaviours } from './behaviours.ts';

let server: NodeServer;
beforeAll(async () => {
  server = await startNodeServer({ runsDir: inject('tinyRunDir'), port: 0, env: { PIE_API_KEYS: 'key-1,node-test-key' } });
});
afterAll(() => server?.close());

describe('API on Node', () => {
  apiBehaviours(() => ({ key: 'node-test-key', fetch: (path, init) => fetch(`${server.url}${path}`, init) }));
});

describe('Label Studio refusals over HTTP', () => {
  it("carry their reason in the status line, which is what Label Studio shows (requests' HTTPError)", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const schema = '<View><Image name="image" value="$image"/><Choices name="label" toName="image"><Choice value="class 0"/><Choice value="Caf\u00e9"/></Choices></View>';
    const r = await fetch(`${server.url}/ml/setup`, {
      method: 'POST', headers: { authorization: 'Bearer key-1', 'content-type': 'application/json' },
      body: JSON.stringify({ project: '1.1763629000', schema }),
    });
    warn.mockRestore();
    expect(r.status).toBe(400);
    // Non-ASCII becomes plain ASCII: http.client reads the status line as Latin-1.
    expect(r.statusText).toMatch(/^choices_mismatch: .*missing .*"class 1".*extra .*"Cafe"/);
    expect((await r.json() as { error: { message: string } }).error.message).toMatch(/"Café"/);
  });
});

describe('keep-alive', () => {
  it('keeps an idle connection open past Node\'s default 5 s, so a client pausing between requests (or a proxy) reuses it', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const request = () => new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
      const req = get(`${server.url}/health`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket }));
      });
      req.on('error', reject);
    });
    try {
      expect(await request()).toEqual({ status: 200, reused: false });
      await new Promise((r) => setTimeout(r, 6000));
      expect(await request()).toEqual({ status: 200, reused: true });
    } finally {
      agent.destroy();
    }
  }, 20_000);
});

describe('request body limit', () => {
  it('refuses a declared length over 8 MiB from its header', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${server.url}/v1/runs/latest/predict`, {
        agent: false, method: 'POST', headers: { authorization: 'Bearer key-1', 'content-type': 'image/png', 'content-length': String(9 * 1024 * 1024 + 1) },
      }, (res) => { res.resume(); resolve(res.statusCode!); });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(413);
  });

  it('refuses a chunked body as soon as it passes 8 MiB, without reading the rest', async () => {
    // In process (the app's fetch), so that what was read is counted without sockets in between.
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (pulled === 32) c.close();
        else { pulled++; c.enqueue(new Uint8Array(1024 * 1024)); }
      },
    });
    const r = await server.app.request('/v1/runs/latest/predict', {
      method: 'POST', body, headers: { authorization: 'Bearer key-1', 'content-type': 'image/png' }, duplex: 'half',
    } as RequestInit);
    expect(r.status).toBe(413);
    expect(pulled).toBeLessThan(12);
  });
});
