/** The API's behaviours inside workerd, with the run seeded into a real (local) R2 bucket binding. */
import { SELF } from 'cloudflare:test';
import { beforeAll, describe } from 'vitest';
import { apiBehaviours } from '../api/behaviours.ts';
import { seedRun } from './seed.ts';

beforeAll(seedRun);

describe('API on Workers (R2)', () => {
  apiBehaviours(() => ({ key: 'worker-test-key', fetch: (path, init) => SELF.fetch(`https://pie.test${path}`, init) }));
});
