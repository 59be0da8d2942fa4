/**
 * The local-folder store's writes: all or nothing, and nothing left among a run's files by a write
 * that never finished (a process killed midway).
 */
import { mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsStore } from './store-fs.ts';

const filesUnder = (dir: string) => readdirSync(dir, { recursive: true }) as string[];

describe('FsStore writes', () => {
  it('leave only the written files in the run\'s folders; temporary files live in .tmp and are never listed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pie-fs-'));
    const store = new FsStore(root);
    await store.put('run-a/models/dense/00.piem', new Uint8Array([1, 2, 3]));
    await store.put('run-a/manifest.json', '{}');
    await store.put('run-a/manifest.json', '{"v":2}');
    expect(filesUnder(join(root, 'run-a')).filter((p) => p.endsWith('.tmp'))).toEqual([]);
    // A write in progress elsewhere (another process): not listed.
    writeFileSync(join(root, '.tmp', '0123456789ab.tmp'), 'partial');
    expect((await store.list('')).map((o) => o.key)).toEqual(['run-a/manifest.json', 'run-a/models/dense/00.piem']);
    expect(new TextDecoder().decode((await store.get('run-a/manifest.json'))!)).toBe('{"v":2}');
  });

  it('the first write of a store removes temporary files of writes that never finished, and keeps recent ones', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pie-fs-'));
    mkdirSync(join(root, '.tmp'));
    const stale = join(root, '.tmp', 'aaaaaaaaaaaa.tmp'), recent = join(root, '.tmp', 'bbbbbbbbbbbb.tmp');
    writeFileSync(stale, 'killed midway');
    writeFileSync(recent, 'in progress');
    const twoHoursAgo = (Date.now() - 2 * 3600_000) / 1000;
    utimesSync(stale, twoHoursAgo, twoHoursAgo);
    await new FsStore(root).put('run-b/latest', 'x');
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(recent)).toBe(true);
  });

  it('refuses keys under .tmp, where its temporary files live', async () => {
    const store = new FsStore(mkdtempSync(join(tmpdir(), 'pie-fs-')));
    await expect(store.put('.tmp/x', 'y')).rejects.toThrow(/invalid store key '\.tmp\/x'/);
    await expect(store.get('.tmp/x')).rejects.toThrow(/invalid store key/);
  });
});
