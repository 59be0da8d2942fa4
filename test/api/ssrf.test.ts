/**
 * /ml/predict fetches task images on a caller's behalf: only from allowed origins, never from
 * loopback/private/metadata addresses unless the operator allows them, with redirects re-checked,
 * size, time, task-count and concurrency caps, and one error text for every failed download.
 * Real HTTP throughout: the API on Node and image hosts on loopback.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { specialHost } from '../../api/fetch-policy.ts';
import { FETCH_FAILED_MESSAGE } from '../../api/label-studio/predict.ts';
import { startNodeServer, type NodeServer } from '../../api/node.ts';
import { guardedFetch } from '../../api/node-fetch.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const labelConfig = `<View><Image name="image" value="$image"/><Choices name="label" toName="image">${Array.from({ length: 10 }, (_, c) => `<Choice value="class ${c}"/>`).join('')}</Choices></View>`;

interface Host { server: Server; port: number; hits: string[]; inFlight: number; maxInFlight: number }

async function imageHost(handle: (req: IncomingMessage, res: ServerResponse, host: Host) => void | Promise<void>): Promise<Host> {
  const host = { hits: [], inFlight: 0, maxInFlight: 0 } as unknown as Host;
  host.server = createServer((req, res) => {
    host.hits.push(req.url ?? '');
    host.inFlight++;
    host.maxInFlight = Math.max(host.maxInFlight, host.inFlight);
    res.on('close', () => { host.inFlight--; });
    void handle(req, res, host);
  });
  await new Promise<void>((resolve) => host.server.listen(0, '127.0.0.1', resolve));
  host.port = (host.server.address() as AddressInfo).port;
  return host;
}

let png: Uint8Array;
let hostA: Host, hostB: Host;
const servers: NodeServer[] = [];

async function api(env: Record<string, string>): Promise<NodeServer> {
  const s = await startNodeServer({ runsDir: inject('tinyRunDir'), port: 0, env: { PIE_PUBLIC_READS: 'true', ...env } });
  servers.push(s);
  return s;
}

async function predict(s: NodeServer, urls: string[]): Promise<{ status: number; results: Json[] }> {
  const r = await fetch(`${s.url}/ml/predict`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tasks: urls.map((image, id) => ({ id, data: { image } })), label_config: labelConfig, project: '1.1' }),
  });
  const body = await r.json() as Json;
  if (!body.results) return { status: r.status, results: [body] };
  // A task without a prediction answers [] and its reason in `errors`, by position.
  const results = (body.results as Json[]).map((p, i) => (Array.isArray(p)
    ? { result: [], error: (() => { const e = (body.errors as Json[]).find((x) => x.position === i); return { code: e!.code, message: e!.message }; })() }
    : { ...p, error: null }));
  return { status: r.status, results };
}

let warn: ReturnType<typeof vi.spyOn>;
beforeAll(async () => {
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const plain = await api({});
  png = new Uint8Array(await (await fetch(`${plain.url}/v1/runs/latest/images/0/image.png`)).arrayBuffer());
  hostA = await imageHost(async (req, res) => {
    if (req.url === '/img.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    if (req.url === '/to-b') return void res.writeHead(302, { location: `http://127.0.0.1:${hostB.port}/img.png` }).end();
    if (req.url === '/to-self') return void res.writeHead(301, { location: '/img.png' }).end();
    if (req.url === '/to-metadata') return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    if (req.url === '/html') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>admin</html>');
    if (req.url === '/big') return void res.writeHead(200).end(new Uint8Array(64 * 1024));
    if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end(png), 1500);
    if (req.url === '/delay') return void setTimeout(() => res.writeHead(200, { 'content-type': 'image/png' }).end(png), 150);
    res.writeHead(404).end('no');
  });
  hostB = await imageHost((_req, res) => void res.writeHead(200).end(png));
});
afterEach(() => { hostA.hits.length = 0; hostB.hits.length = 0; hostA.maxInFlight = 0; });
afterAll(async () => {
  warn.mockRestore();
  await Promise.all(servers.map((s) => s.close()));
  for (const h of [hostA, hostB]) h?.server.close();
});

describe('task image fetching', () => {
  it('fetches nothing from an origin the operator did not allow', async () => {
    const s = await api({ LABEL_STUDIO_URL: 'https://label-studio.invalid', PIE_FETCH_ALLOW_PRIVATE: 'true' });
    const { results } = await predict(s, [`http://127.0.0.1:${hostA.port}/img.png`, 'http://169.254.169.254/latest/meta-data/']);
    expect(results.map((r) => r.error?.code)).toEqual(['fetch_refused', 'fetch_refused']);
    expect(results[0].error.message).toMatch(/not an allowed origin/);
    expect(hostA.hits).toEqual([]);
  });

  it('refuses loopback addresses in every spelling, even in an allowed origin, unless private addresses are allowed', async () => {
    const p = hostA.port;
    const origins = [`http://127.0.0.1:${p}`, `http://localhost:${p}`, `http://[::1]:${p}`, `http://[::ffff:7f00:1]:${p}`].join(',');
    const spellings = [
      `http://127.0.0.1:${p}/img.png`, `http://2130706433:${p}/img.png`, `http://0x7f.0.0.1:${p}/img.png`,
      `http://0177.0.0.1:${p}/img.png`, `http://127.1:${p}/img.png`, `http://localhost:${p}/img.png`,
      `http://LOCALHOST.:${p}/img.png`, `http://[::1]:${p}/img.png`, `http://[::ffff:127.0.0.1]:${p}/img.png`,
    ];
    const closed = await api({ PIE_FETCH_ORIGINS: origins });
    const refused = await predict(closed, spellings);
    expect(refused.results.map((r) => r.error?.code)).toEqual(spellings.map(() => 'fetch_refused'));
    expect(hostA.hits).toEqual([]);

    const open = await api({ PIE_FETCH_ORIGINS: `http://127.0.0.1:${p}`, PIE_FETCH_ALLOW_PRIVATE: 'true' });
    const fetched = await predict(open, [`http://127.0.0.1:${p}/img.png`, `http://2130706433:${p}/img.png`, `http://127.0.0.1:${p}/to-self`]);
    expect(fetched.results.map((r) => r.error)).toEqual([null, null, null]);
    expect(fetched.results[0].result[0].value.choices).toHaveLength(1);
  });

  it('names loopback, private, link-local, metadata, CGNAT and IPv6 special addresses', () => {
    for (const h of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.100.100.200', '0.0.0.0',
      '[::1]', '[::]', '[fe80::1]', '[fd00:ec2::254]', '[::ffff:a00:1]', '[64:ff9b::7f00:1]', '[2002:7f00:1::]',
      'localhost', 'a.localhost', 'metadata.google.internal', 'metadata', '224.0.0.1', '255.255.255.255']) {
      expect(specialHost(h), h).not.toBeNull();
    }
    for (const h of ['93.184.216.34', '[2606:4700::1]', 'images.example.com', 'label-studio']) expect(specialHost(h), h).toBeNull();
  });

  it('re-checks every redirect: none to another origin or to a metadata address', async () => {
    const s = await api({ PIE_FETCH_ORIGINS: `http://127.0.0.1:${hostA.port}`, PIE_FETCH_ALLOW_PRIVATE: 'true' });
    const { results } = await predict(s, [`http://127.0.0.1:${hostA.port}/to-b`, `http://127.0.0.1:${hostA.port}/to-metadata`]);
    expect(results.map((r) => r.error)).toEqual([
      { code: 'fetch_failed', message: FETCH_FAILED_MESSAGE }, { code: 'fetch_failed', message: FETCH_FAILED_MESSAGE },
    ]);
    expect(hostB.hits).toEqual([]);
    expect(warn.mock.calls.map((c: unknown[]) => String(c[0])).join('\n')).toMatch(/redirected to http:\/\/127\.0\.0\.1:\d+\/img\.png, refused/);
  });

  it('refuses, at connect time, a name in an allowed origin that resolves to a loopback address', async () => {
    const lookup = ((_host: string, _o: unknown, cb: (e: null, a: { address: string; family: number }[]) => void) => cb(null, [{ address: '127.0.0.1', family: 4 }]));
    const f = guardedFetch({ allowPrivate: false, lookup: lookup as never });
    await expect(f(`http://images.test:${hostA.port}/img.png`)).rejects.toMatchObject({ cause: { code: 'EREFUSEDADDRESS' } });
    expect(hostA.hits).toEqual([]);
  });

  it('gives the client one text for a 404, a closed port, a timeout, an HTML page and an oversized body', async () => {
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const closedPort = (free.address() as AddressInfo).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    const s = await api({
      PIE_FETCH_ORIGINS: `http://127.0.0.1:${hostA.port},http://127.0.0.1:${closedPort}`, PIE_FETCH_ALLOW_PRIVATE: 'true',
      PIE_FETCH_TIMEOUT_MS: '300', PIE_FETCH_MAX_BYTES: '10000',
    });
    warn.mockClear();
    const a = `http://127.0.0.1:${hostA.port}`;
    const { results } = await predict(s, [`${a}/missing`, `http://127.0.0.1:${closedPort}/img.png`, `${a}/slow`, `${a}/html`, `${a}/big`]);
    expect(results.map((r) => r.error)).toEqual(results.map(() => ({ code: 'fetch_failed', message: FETCH_FAILED_MESSAGE })));
    const log = warn.mock.calls.map((c: unknown[]) => String(c[0])).join('\n');
    for (const detail of [/404/, /ECONNREFUSED/, /fetch_timeout/, /unsupported_format/, /image_too_large/]) expect(log).toMatch(detail);
  });

  it('caps tasks per request and downloads in flight across requests', async () => {
    const s = await api({ PIE_FETCH_ORIGINS: `http://127.0.0.1:${hostA.port}`, PIE_FETCH_ALLOW_PRIVATE: 'true', PIE_ML_MAX_TASKS: '3', PIE_FETCH_CONCURRENCY: '2' });
    const url = `http://127.0.0.1:${hostA.port}/delay`;
    const tooMany = await predict(s, [url, url, url, url]);
    expect(tooMany.status).toBe(413);
    expect(tooMany.results[0].error.message).toMatch(/PIE_ML_MAX_TASKS/);
    expect(hostA.hits).toEqual([]);
    const both = await Promise.all([predict(s, [url, url, url]), predict(s, [url, url, url])]);
    expect(both.flatMap((b) => b.results.map((r) => r.error))).toEqual(Array(6).fill(null));
    expect(hostA.hits).toHaveLength(6);
    expect(hostA.maxInFlight).toBe(2);
  });
});
