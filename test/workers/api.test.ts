/** The API's behaviours inside workerd, with the run seeded into a real (local) R2 bucket binding. */
import { env, SELF } from 'cloudflare:test';
import { beforeAll, describe, inject } from 'vitest';
import { apiBehaviours } from '../api/behaviours.ts';

beforeAll(async () => {
  for (const [key, b64] of Object.entries(inject('tinyRunFiles'))) {
    await env.RUNS.put(key, Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)));
  }
});

describe('API on Workers (R2)', () => {
  apiBehaviours(() => ({ key: 'worker-test-key', fetch: (path, init) => SELF.fetch(`https://pie.test${path}`, init) }));
});
