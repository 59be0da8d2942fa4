/** The colour image-folder run inside workerd, from a real (local) R2 bucket binding. */
import { SELF } from 'cloudflare:test';
import { beforeAll, describe, inject } from 'vitest';
import { colorRunBehaviours } from '../api/color-behaviours.ts';
import { seedColorRun } from './seed.ts';

beforeAll(seedColorRun);

describe('colour run on Workers (R2)', () => {
  colorRunBehaviours(
    () => ({ key: 'worker-test-key', fetch: (path, init) => SELF.fetch(`https://pie.test${path}`, init) }),
    () => ({ files: inject('colorRunFiles'), uploads: inject('colorUploads'), photo: inject('photoJpeg') }),
  );
});
