/** The 1000-class run inside workerd: seeded into the R2 binding, images read with R2's ranged get. */
import { env, SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { R2Store } from '../../api/r2-store.ts';
import { readRange } from '../../lib/store.ts';
import { wideRunBehaviours } from '../api/wide-behaviours.ts';
import { WIDE_RUN } from '../wide-run.ts';

beforeAll(async () => {
  // Everything but `latest`: the tiny run's pointer stays the bucket's latest.
  for (const [key, b64] of Object.entries(inject('wideRunFiles'))) {
    if (key !== 'latest') await env.RUNS.put(key, Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)));
  }
});

describe('1000-class run on Workers (R2)', () => {
  wideRunBehaviours(() => ({ key: 'worker-test-key', fetch: (path, init) => SELF.fetch(`https://pie.test${path}`, init) }));

  it('R2Store reads ranges: exact bytes, short at the end, empty past it, null when missing', async () => {
    const store = new R2Store(env.RUNS);
    const key = `${WIDE_RUN.runId}/eval/images.bin`;
    const whole = (await store.get(key))!;
    expect(Array.from((await readRange(store, key, 130, 64))!)).toEqual(Array.from(whole.subarray(130, 194)));
    expect((await readRange(store, key, whole.length - 10, 64))!.length).toBe(10);
    expect((await readRange(store, key, whole.length + 5, 64))!.length).toBe(0);
    expect(await readRange(store, `${WIDE_RUN.runId}/eval/nothing.bin`, 0, 64)).toBeNull();
  });
});
