/** Auth fails closed in workerd: a Worker deployed without the PIE_API_KEYS secret refuses /v1 and /ml alike. */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWorkerApp } from '../../api/worker.ts';
import { seedRun } from './seed.ts';

beforeAll(seedRun);

const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

describe('auth on Workers', () => {
  it('without PIE_API_KEYS and PIE_PUBLIC_READS: /v1 and every /ml route but the webhook refuse', async () => {
    const app = createWorkerApp({ ...env, PIE_API_KEYS: undefined, PIE_PUBLIC_READS: 'false' });
    const req = (path: string, init?: RequestInit) => app.fetch(new Request(`https://pie.test${path}`, init), env, ctx);
    expect((await req('/health')).status).toBe(200);
    for (const path of ['/v1/runs/latest', '/ml/health', '/ml/versions']) expect((await req(path)).status, path).toBe(401);
    const predict = await req('/ml/predict', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tasks: [{ id: 1, data: { image: 'https://example.com/x.png' } }], label_config: '<View/>' }),
    });
    expect(predict.status).toBe(401);
    expect((await req('/ml/webhook', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"action":"PROJECT_UPDATED"}' })).status).toBe(200);
  });
  it('PIE_PUBLIC_READS=true opens them', async () => {
    const app = createWorkerApp({ ...env, PIE_API_KEYS: undefined, PIE_PUBLIC_READS: 'true' } as unknown as typeof env);
    expect((await app.fetch(new Request('https://pie.test/ml/health'), env, ctx)).status).toBe(200);
    expect((await app.fetch(new Request('https://pie.test/v1/runs/latest'), env, ctx)).status).toBe(200);
  });
});
