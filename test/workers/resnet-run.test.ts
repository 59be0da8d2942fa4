/** The CLI-trained resnet run inside workerd, from a real (local) R2 bucket binding. */
import { SELF } from 'cloudflare:test';
import { beforeAll, describe, inject } from 'vitest';
import { resnetRunBehaviours } from '../api/resnet-run-behaviours.ts';
import { seedResnetRun } from './seed.ts';

beforeAll(seedResnetRun);

describe('resnet run on Workers (R2)', () => {
  resnetRunBehaviours(
    () => ({ key: 'worker-test-key', fetch: (path, init) => SELF.fetch(`https://pie.test${path}`, init) }),
    () => ({ files: inject('resnetRunFiles'), uploads: inject('resnetUploads') }),
  );
});
