/**
 * Retention on a local store with five runs: four finished ones created on four days (latest
 * names the second oldest) and a partial one. Pruning keeps the N newest finished runs and latest,
 * and never touches a partial run. The same on a bucket is in s3.e2e.test.ts.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import { listRuns, planPrune, pruneRuns } from '../../trainer/retention.ts';
import { FsStore } from '../../node/store-fs.ts';

const tiny = inject('tinyRunDir');
const tinyId = readFileSync(join(tiny, 'latest'), 'utf8').trim();
let dir: string;
let store: FsStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pie-retention-'));
  for (const [runId, day] of [['r1', 1], ['r2', 2], ['r3', 3], ['r4', 4]] as const) {
    cpSync(join(tiny, tinyId), join(dir, runId), { recursive: true });
    const manifest = JSON.parse(readFileSync(join(dir, runId, 'manifest.json'), 'utf8'));
    writeFileSync(join(dir, runId, 'manifest.json'), JSON.stringify({ ...manifest, runId, createdAt: `2026-11-0${day}T03:00:00.000Z` }));
  }
  // A run still being trained (or a publish that did not finish): files but no manifest.
  cpSync(join(tiny, tinyId, 'models'), join(dir, 'r5-partial', 'models'), { recursive: true });
  writeFileSync(join(dir, 'latest'), 'r2\n');
  store = new FsStore(dir);
});

describe('runs list / prune', () => {
  it('lists finished runs newest first, marks latest, then partial runs', async () => {
    const runs = await listRuns(store);
    expect(runs.map((r) => [r.runId, r.latest, r.createdAt !== null])).toEqual([
      ['r4', false, true], ['r3', false, true], ['r2', true, true], ['r1', false, true], ['r5-partial', false, false],
    ]);
    expect(runs[0].objects).toBeGreaterThan(10);
  });

  it('keeps the N newest finished runs and latest; never a partial run', () => {
    return listRuns(store).then((runs) => {
      const ids = (n: number) => planPrune(runs, n).remove.map((r) => r.runId);
      expect(ids(0)).toEqual(['r4', 'r3', 'r1']);
      expect(ids(1)).toEqual(['r3', 'r1']);
      expect(ids(2)).toEqual(['r1']);
      expect(ids(3)).toEqual([]);
      expect(() => planPrune(runs, -1)).toThrow(/--keep/);
    });
  });

  it('a dry run deletes nothing; a real one deletes the runs whole, folders included', async () => {
    const dry = await pruneRuns(store, 1, { dryRun: true });
    expect(dry.remove.map((r) => r.runId)).toEqual(['r3', 'r1']);
    expect(existsSync(join(dir, 'r1', 'manifest.json'))).toBe(true);

    const done = await pruneRuns(store, 1);
    expect(done.remove.map((r) => r.runId)).toEqual(['r3', 'r1']);
    expect(existsSync(join(dir, 'r1'))).toBe(false);
    expect(existsSync(join(dir, 'r3'))).toBe(false);
    expect((await listRuns(store)).map((r) => r.runId)).toEqual(['r4', 'r2', 'r5-partial']);
    expect(readFileSync(join(dir, 'latest'), 'utf8').trim()).toBe('r2');
  });
});
