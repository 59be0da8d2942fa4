/**
 * Auth fails closed on Node: no keys (unset, empty or blank) and no explicit PIE_PUBLIC_READS=true
 * means every protected route refuses, /ml/* included, and `pie serve` says why at start.
 * The open webhook takes small bodies only.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { WEBHOOK_MAX_BYTES } from '../../api/routes/label-studio.ts';
import { safeEqual } from '../../api/auth.ts';
import { startNodeServer, type NodeServer } from '../../api/node.ts';
import { createApp } from '../../api/app.ts';
import { optionsFromEnv } from '../../api/context.ts';
import { RunRepository } from '../../api/runs.ts';
import { FsStore } from '../../node/store-fs.ts';

const servers: NodeServer[] = [];
const start = async (env: Record<string, string>) => {
  const s = await startNodeServer({ runsDir: inject('tinyRunDir'), port: 0, env });
  servers.push(s);
  return s;
};
afterAll(() => Promise.all(servers.map((s) => s.close())));

const predictBody = JSON.stringify({ tasks: [{ id: 1, data: { image: 'http://127.0.0.1:9/x.png' } }], label_config: '<View/>' });

describe('auth on Node', () => {
  for (const keys of [undefined, '', ' , ']) {
    it(`PIE_API_KEYS=${JSON.stringify(keys)} without PIE_PUBLIC_READS: protected routes and /ml/* refuse`, async () => {
      const s = await start(keys === undefined ? {} : { PIE_API_KEYS: keys });
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
      for (const path of ['/v1/runs', '/v1/runs/latest', '/v1/runs/latest/images/0', '/ml/health', '/ml/versions']) {
        const r = await fetch(`${s.url}${path}`);
        expect(r.status, path).toBe(401);
        expect(((await r.json()) as { error: { message: string } }).error.message, path).toMatch(/PIE_PUBLIC_READS=true/);
      }
      const p = await fetch(`${s.url}/ml/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: predictBody });
      expect(p.status).toBe(401);
    });
  }

  it('PIE_PUBLIC_READS=true opens the reads and /ml/*', async () => {
    const s = await start({ PIE_PUBLIC_READS: 'true' });
    expect((await fetch(`${s.url}/v1/runs/latest`)).status).toBe(200);
    expect((await fetch(`${s.url}/ml/health`)).status).toBe(200);
  });

  it('the open webhook takes small bodies only', async () => {
    const s = await start({ PIE_API_KEYS: 'k' });
    const event = (pad: number) => fetch(`${s.url}/ml/webhook`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'ANNOTATION_CREATED', project: { id: 1 }, pad: 'x'.repeat(pad) }),
    });
    expect((await event(100)).status).toBe(200);
    const big = await event(WEBHOOK_MAX_BYTES);
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
  });

  it('pie serve says at start why every protected route refuses', async () => {
    const root = join(import.meta.dirname, '../..');
    const child = spawn(process.execPath, [join(root, 'bin/pie.js'), 'serve', '--runs-dir', inject('tinyRunDir'), '--port', '0'], {
      cwd: root, env: { ...process.env, PIE_API_KEYS: ' , ', PIE_PUBLIC_READS: '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no start line: ${out}`)), 60_000);
        child.stdout.on('data', () => { if (/serving/.test(out)) { clearTimeout(t); resolve(); } });
        child.once('exit', (code) => reject(new Error(`pie serve exited with ${code}: ${out}`)));
      });
    } finally {
      child.kill();
    }
    expect(out).toMatch(/WARNING: no API keys are configured \(PIE_API_KEYS\) and reads are not public/);
    expect(out).toMatch(/protected routes refuse/);
  });
});

describe('links, in process', () => {
  const app = (env: Record<string, string>) => createApp(new RunRepository(new FsStore(inject('tinyRunDir'))), optionsFromEnv(env));
  it('absolute links come from PIE_PUBLIC_URL, whatever the Host header says', async () => {
    const a = app({ PIE_PUBLIC_READS: 'true', PIE_PUBLIC_URL: 'https://pie.example.com/api/' });
    const r = await a.request('http://evil.example/v1/runs/latest/images/3', { headers: { host: 'evil.example' } });
    const body = await r.json() as { runId: string; image: { png: string } };
    expect(body.image.png).toBe(`https://pie.example.com/api/v1/runs/${body.runId}/images/3/image.png`);
  });
});

describe('key comparison', () => {
  it('is equality: any differing, missing or extra character, lone surrogates included, makes keys differ', () => {
    const key = 'k3y-Ω-\u{1F511}';
    expect(safeEqual(key, key.slice())).toBe(true);
    expect(safeEqual('', '')).toBe(true);
    for (const other of ['', 'x3y-Ω-\u{1F511}', 'k3y-Ω-\u{1F512}', key.slice(0, -1), `${key}x`, 'k3y-\u03a8-\u{1F511}']) {
      expect(safeEqual(key, other), other).toBe(false);
      expect(safeEqual(other, key), other).toBe(false);
    }
    // A lone surrogate is not U+FFFD, which is what it would become encoded as UTF-8.
    expect(safeEqual('a\ud800', 'a\ufffd')).toBe(false);
  });
});
