/**
 * `wrangler dev` serves the API against a local R2 bucket holding a run: the run is seeded the
 * way `npm run dev:worker` does it, then the Worker is built and started by wrangler itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { seedLocalR2 } from '../../api/dev/seed-local-r2.ts';

const root = join(import.meta.dirname, '..', '..');
let child: ChildProcess;
let url: string;
let log = '';

beforeAll(async () => {
  const persist = mkdtempSync(join(tmpdir(), 'pie-wrangler-'));
  await seedLocalR2(inject('tinyRunDir'), persist, 'pie-lens-runs');
  const port = 18000 + Math.floor(Math.random() * 2000);
  url = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, [join(root, 'node_modules/wrangler/bin/wrangler.js'), 'dev', '--port', String(port), '--ip', '127.0.0.1',
    '--persist-to', persist, '--var', 'PIE_API_KEYS:dev-key', '--show-interactive-dev-session=false'], { cwd: root, env: { ...process.env, CI: 'true' } });
  child.stdout!.on('data', (d) => { log += d; });
  child.stderr!.on('data', (d) => { log += d; });
  for (let i = 0; i < 240; i++) {
    try { if ((await fetch(`${url}/health`)).ok) return; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`wrangler dev did not come up:\n${log}`);
}, 180_000);
afterAll(() => { child?.kill('SIGTERM'); });

describe('wrangler dev with a local R2 bucket', () => {
  it('serves the seeded run, with keys, and predicts uploads live', async () => {
    const health = await (await fetch(`${url}/health`)).json() as { latestRun: string };
    expect(health.latestRun).toMatch(/^synthetic-tiny-/);
    expect((await fetch(`${url}/v1/runs/latest`)).status).toBe(401);
    const headers = { authorization: 'Bearer dev-key' };
    const overview = await (await fetch(`${url}/v1/runs/latest`, { headers })).json() as { runId: string; levels: unknown[] };
    expect(overview.runId).toBe(health.latestRun);
    expect(overview.levels).toHaveLength(6);
    const png = await (await fetch(`${url}/v1/runs/latest/images/9/image.png`, { headers })).arrayBuffer();
    const live = await fetch(`${url}/v1/runs/latest/predict`, { method: 'POST', body: png, headers: { ...headers, 'content-type': 'image/png' } });
    expect(live.status).toBe(200);
    const stored = await (await fetch(`${url}/v1/runs/latest/images/9`, { headers })).json() as { denseModal: unknown };
    expect(((await live.json()) as { denseModal: unknown }).denseModal).toEqual(stored.denseModal);
  });
});
