/**
 * Live predictions spread over level hosts in workerd: a paper-shaped run (11 levels, every model
 * format; small members) in the R2 binding, a front whose predictor budget holds only some of its
 * levels, and the LevelHost entrypoint reached through the PIE_LEVELS service binding of
 * wrangler.toml (this Worker itself). The spread answer must equal the one predicted in one place.
 */
import { createExecutionContext, env, SELF, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { LevelHostCall, LevelHostFigures, LevelHostReply, LevelHostStub } from '../../api/level-hosts.ts';
import { R2Store } from '../../api/r2-store.ts';
import { createWorkerApp, type Secrets } from '../../api/worker.ts';
import { sha256Hex } from '../../lib/hash.ts';
import { LATEST_KEY } from '../../lib/store.ts';
import { PAPER_SHAPE, writeSyntheticRun } from '../../lib/synthetic.ts';
import type { Manifest } from '../../lib/manifest.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const RUN = 'paper-shaped-small';
const MB = 1024 * 1024;
let manifest: Manifest;
let levelBytes: number[];
let budgetMb: number;

beforeAll(async () => {
  const latest = await env.RUNS.get(LATEST_KEY);
  const previous = latest ? await latest.text() : null;
  // The paper's levels and formats, members small enough for a test: 784-40-20-10, K = 3.
  manifest = await writeSyntheticRun(new R2Store(env.RUNS), { ...PAPER_SHAPE, runId: RUN, images: 40, K: 3, hidden: [40, 20], seed: 5 });
  if (previous !== null) await env.RUNS.put(LATEST_KEY, previous);
  else await env.RUNS.delete(LATEST_KEY);
  levelBytes = manifest.levels.map((l) => l.members.reduce((a, m) => a + manifest.files.find((f) => f.path === m.model)!.bytes, 0));
  // Room for the largest level and a little more: the run's levels need several budgets.
  budgetMb = (Math.max(...levelBytes) * 1.3) / MB;
});

/** The app a Worker makes from these settings, as the default entrypoint does per isolate. */
function workerApp(vars: Record<string, string>, withHosts: boolean) {
  const e = { ...env, PIE_PUBLIC_READS: 'true', ...vars } as unknown as Env & Secrets;
  if (!withHosts) delete (e as { PIE_LEVELS?: unknown }).PIE_LEVELS;
  const app = createWorkerApp(e);
  return async (path: string, init?: RequestInit) => {
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(`https://pie.test${path}`, init), e, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
}

async function imagePng(i: number): Promise<ArrayBuffer> {
  return (await SELF.fetch(`https://pie.test/v1/runs/${RUN}/images/${i}/image.png`, { headers: { authorization: 'Bearer worker-test-key' } })).arrayBuffer();
}

describe('live prediction spread over level hosts (workerd, service binding)', () => {
  it('answers every level exactly as one place does, member by member, each host within the budget', async () => {
    const spread = workerApp({ PIE_PREDICTOR_BUDGET_MB: String(budgetMb) }, true);
    const single = workerApp({ PIE_PREDICTOR_BUDGET_MB: '64' }, false);
    const budget = budgetMb * MB;
    for (const i of [0, 7, 31]) {
      const png = await imagePng(i);
      const post = { method: 'POST', headers: { 'content-type': 'image/png' } };
      const [a, b] = [await spread(`/v1/runs/${RUN}/predict`, { ...post, body: png }), await single(`/v1/runs/${RUN}/predict`, { ...post, body: png })];
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(b.headers.get('X-PIE-Level-Hosts')).toBeNull();
      const hosts = JSON.parse(a.headers.get('X-PIE-Level-Hosts') ?? '[]') as LevelHostFigures[];
      // Several invocations, together every level once, each holding at most the budget.
      expect(hosts.length).toBeGreaterThan(1);
      expect(hosts.flatMap((h) => h.levels).sort()).toEqual(manifest.levels.map((l) => l.name).sort());
      for (const h of hosts) {
        expect(h.host).toBe('PIE_LEVELS');
        expect(h.levels.reduce((s, name) => s + levelBytes[manifest.levels.findIndex((l) => l.name === name)], 0)).toBeLessThanOrEqual(budget);
      }
      const [sa, sb] = [await a.json() as Json, await b.json() as Json];
      expect(sa.levels.map((l: Json) => l.memberPredictions)).toEqual(sb.levels.map((l: Json) => l.memberPredictions));
      expect(sa).toEqual(sb);
    }
  });

  it('spreads only the levels asked for, and a JSON pixel body likewise', async () => {
    const spread = workerApp({ PIE_PREDICTOR_BUDGET_MB: String(budgetMb) }, true);
    const single = workerApp({ PIE_PREDICTOR_BUDGET_MB: '64' }, false);
    const pixels = Array.from({ length: 28 * 28 }, (_, p) => (p * 37) % 256);
    const init = () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pixels, scale: '0-255' }) });
    const path = `/v1/runs/${RUN}/predict?levels=p99,int8-full`;
    const [a, b] = [await spread(path, init()), await single(path, init())];
    expect([a.status, b.status]).toEqual([200, 200]);
    const hosts = JSON.parse(a.headers.get('X-PIE-Level-Hosts') ?? '[]') as LevelHostFigures[];
    expect(hosts.flatMap((h) => h.levels).sort()).toEqual(['dense', 'int8-full', 'p99']);
    const [sa, sb] = [await a.json() as Json, await b.json() as Json];
    expect(sa.levels.map((l: Json) => l.level)).toEqual(['dense', 'p99', 'int8-full']);
    expect(sa).toEqual(sb);
  });

  it('refuses a level larger than the budget with a 422 naming both sizes, before any host is called', async () => {
    const tiny = workerApp({ PIE_PREDICTOR_BUDGET_MB: String(Math.min(...levelBytes) / 2 / MB) }, true);
    const r = await tiny(`/v1/runs/${RUN}/predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: await imagePng(3) });
    expect(r.status).toBe(422);
    expect(r.headers.get('X-PIE-Level-Hosts')).toBeNull();
    const body = await r.json() as Json;
    expect(body.error.code).toBe('over_memory_budget');
    expect(body.error.message).toMatch(new RegExp(`level dense of run ${RUN} needs ${(levelBytes[0] / MB).toFixed(1)} MB of model weights, more than the predictor memory budget of \\d+\\.\\d MB`));
  });

  it('without level hosts answers the same from one isolate, and says once in the log why that is slow', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const alone = workerApp({ PIE_PREDICTOR_BUDGET_MB: String(budgetMb) }, false);
      const single = workerApp({ PIE_PREDICTOR_BUDGET_MB: '64' }, false);
      const png = await imagePng(12);
      const post = () => ({ method: 'POST', headers: { 'content-type': 'image/png' }, body: png });
      const a = await alone(`/v1/runs/${RUN}/predict`, post());
      await alone(`/v1/runs/${RUN}/predict`, post());
      const b = await single(`/v1/runs/${RUN}/predict`, post());
      expect(a.headers.get('X-PIE-Level-Hosts')).toBeNull();
      expect(await a.json()).toEqual(await b.json());
      const told = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('no level hosts are bound'));
      expect(told).toHaveLength(1);
      expect(told[0]).toMatch(new RegExp(`run ${RUN} has \\d+\\.\\d MB of model weights, more than the predictor budget of \\d+\\.\\d MB`));
    } finally {
      warn.mockRestore();
    }
  });

  it('has no HTTP route into a level host: outside callers reach only the public API', async () => {
    const run = await (await SELF.fetch(`https://pie.test/v1/runs/${RUN}`, { headers: { authorization: 'Bearer worker-test-key' } })).json() as Json;
    expect(run.runId).toBe(RUN);
    const call = JSON.stringify({ runId: RUN, etag: 'x', levels: ['dense'], input: Array.from({ length: 784 }, () => 0) });
    for (const path of ['/LevelHost/predict', '/predict', '/v1/level-hosts', `/v1/runs/${RUN}/levels`]) {
      for (const auth of [{}, { authorization: 'Bearer worker-test-key' }] as Record<string, string>[]) {
        const r = await SELF.fetch(`https://pie.test${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: call });
        expect([401, 404]).toContain(r.status);
        expect(r.headers.get('X-PIE-Level-Hosts')).toBeNull();
      }
    }
  });

  it('a level host checks every call and answers its errors as data', async () => {
    const host = env.PIE_LEVELS as unknown as LevelHostStub;
    // The run's ETag as LoadedRun makes it: from the SHA-256 of its manifest.
    const etag = `"${(await sha256Hex(new Uint8Array(await (await env.RUNS.get(`${RUN}/manifest.json`))!.arrayBuffer()))).slice(0, 32)}"`;
    const input = new Float32Array(784).fill(0.5);
    const ask = async (call: Partial<LevelHostCall> | Record<string, unknown>) => {
      const reply: LevelHostReply = await host.predict({ runId: RUN, etag, levels: ['dense'], input, ...call } as LevelHostCall);
      return 'error' in reply ? reply.error : { status: 200, code: 'ok', message: '', reply };
    };
    expect((await ask({})).status).toBe(200);
    expect(await ask({ etag: '"0123"' })).toMatchObject({ status: 409, code: 'run_mismatch' });
    expect(await ask({ runId: 'latest' })).toMatchObject({ status: 400, message: expect.stringMatching(/not latest/) });
    expect(await ask({ levels: ['p42'] })).toMatchObject({ status: 404, message: expect.stringMatching(/has no level 'p42'/) });
    expect(await ask({ levels: ['dense', 'dense'] })).toMatchObject({ status: 400 });
    expect(await ask({ input: new Float32Array(100) })).toMatchObject({ status: 400, message: expect.stringMatching(/takes 28×28×1/) });
    expect(await ask({ input: Array.from(input) })).toMatchObject({ status: 400, message: expect.stringMatching(/Float32Array/) });
    expect(await ask({ input: new Float32Array(784).fill(NaN) })).toMatchObject({ status: 400 });
  });
});
