/** The API's loaded-run cache is bounded: the least recently used run goes when a new one comes. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { Store } from '../../lib/store.ts';
import { FsStore } from '../../node/store-fs.ts';
import { DEFAULT_MAX_LOADED_RUNS, RunRepository } from '../../api/runs.ts';

/** The tiny run under any number of ids (`copy-<n>/…` reads the real run's files), counting manifest reads. */
function aliasingStore(): { store: Store; manifestReads: Map<string, number> } {
  const dir = inject('tinyRunDir');
  const real = new FsStore(dir);
  const runId = readFileSync(join(dir, 'latest'), 'utf8').trim();
  const manifestReads = new Map<string, number>();
  const map = (key: string) => key.replace(/^copy-\d+\//, `${runId}/`);
  const store: Store = {
    get: async (key) => {
      if (key.endsWith('/manifest.json')) manifestReads.set(key.split('/')[0], (manifestReads.get(key.split('/')[0]) ?? 0) + 1);
      return real.get(map(key));
    },
    put: () => { throw new Error('read only'); },
    head: (key) => real.head(map(key)),
    list: (prefix) => real.list(map(prefix)),
  };
  return { store, manifestReads };
}

describe('RunRepository cache', () => {
  it('keeps at most maxRuns runs, evicting the least recently used', async () => {
    const { store, manifestReads } = aliasingStore();
    const repo = new RunRepository(store, { maxRuns: 2 });
    const a = await repo.get('copy-1');
    await repo.get('copy-2');
    expect(await repo.get('copy-1')).toBe(a); // a hit, and copy-1 is now the most recent
    await repo.get('copy-3');
    expect(repo.loadedIds()).toEqual(['copy-3', 'copy-1']);
    expect(manifestReads.get('copy-1')).toBe(1);
    await repo.get('copy-2'); // evicted before: loaded again
    expect(manifestReads.get('copy-2')).toBe(2);
    expect(repo.loadedIds()).toEqual(['copy-2', 'copy-3']);
  });

  it('many run ids never hold more than the default bound', async () => {
    const { store } = aliasingStore();
    const repo = new RunRepository(store);
    for (let i = 0; i < 3 * DEFAULT_MAX_LOADED_RUNS; i++) await repo.get(`copy-${i}`);
    expect(repo.loadedIds()).toHaveLength(DEFAULT_MAX_LOADED_RUNS);
  });

  it('a failed load is not kept', async () => {
    const { store } = aliasingStore();
    const repo = new RunRepository(store, { maxRuns: 2 });
    await expect(repo.get('missing-run')).rejects.toThrow(/no run 'missing-run'/);
    expect(repo.loadedIds()).toEqual([]);
  });
});
