/** The robustness and subgroup routes inside workerd, from a real (local) R2 bucket binding. */
import { env, SELF } from 'cloudflare:test';
import { beforeAll, describe, inject } from 'vitest';
import { robustnessBehaviours } from '../api/robustness-behaviours.ts';
import { seedRun } from './seed.ts';

const bytes = (b64: string) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));

beforeAll(async () => {
  await seedRun();
  for (const [key, b64] of Object.entries(inject('robustRunFiles'))) await env.RUNS.put(key, bytes(b64));
});

describe('robustness and subgroups on Workers (R2)', () => {
  const auth = { headers: { authorization: 'Bearer worker-test-key' } };
  robustnessBehaviours(() => ({
    get: (path) => SELF.fetch(`https://pie.test${path}`, auth),
    getPlain: (path) => SELF.fetch(`https://pie.test${path}`, auth),
    file: (path) => bytes(inject('robustRunFiles')[`tiny-robust/${path}`]),
    runId: 'tiny-robust',
  }));
});
