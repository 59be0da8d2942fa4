import { mkdir, open, readFile, readdir, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { checkKey, type DeletableStore, type ObjectInfo } from '../lib/store.ts';

/** Temporary files of writes in progress, under the root: a write killed midway leaves its file here, never among a run's files. */
const TMP_DIR = '.tmp';
/** A temporary file older than this is a write that never finished (a killed process), not one in progress: the next write removes it. */
const STALE_MS = 60 * 60 * 1000;

/**
 * A Store over a local directory. Writes go to a temporary file, then a rename: all or nothing.
 * The temporary files live in `<root>/.tmp`, so that a process killed while writing leaves no
 * litter in a run's folders (which a resumed run would not know to remove, and which would keep a
 * pruned run's folder from going).
 */
export class FsStore implements DeletableStore {
  private swept = false;

  constructor(readonly root: string) {}

  private path(key: string): string {
    const parts = checkKey(key).split('/');
    if (parts[0] === TMP_DIR) throw new Error(`invalid store key '${key}': '${TMP_DIR}/' holds the local store's temporary files`);
    return join(this.root, ...parts);
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.path(key)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') return null;
      throw err;
    }
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array | null> {
    let file;
    try {
      file = await open(this.path(key), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') return null;
      throw err;
    }
    try {
      const out = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await file.read(out, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return out.subarray(0, got);
    } finally {
      await file.close();
    }
  }

  async put(key: string, data: Uint8Array | string): Promise<void> {
    const target = this.path(key);
    const tmpDir = join(this.root, TMP_DIR);
    await mkdir(dirname(target), { recursive: true });
    await mkdir(tmpDir, { recursive: true });
    if (!this.swept) {
      this.swept = true;
      await this.sweepStale(tmpDir);
    }
    const name = `${randomBytes(6).toString('hex')}.tmp`;
    const tmp = join(tmpDir, name);
    await writeFile(tmp, data);
    try {
      await rename(tmp, target);
      return;
    } catch (err) {
      await unlink(tmp).catch(() => {});
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    }
    // The target's folder is on another file system (a mounted or linked folder): write beside it.
    const beside = `${target}.${name}`;
    await writeFile(beside, data);
    await rename(beside, target);
  }

  /** Removes the temporary files of writes that never finished (older than STALE_MS). */
  private async sweepStale(tmpDir: string): Promise<void> {
    const now = Date.now();
    for (const name of await readdir(tmpDir)) {
      const p = join(tmpDir, name);
      try {
        if (name.endsWith('.tmp') && now - (await stat(p)).mtimeMs > STALE_MS) await unlink(p);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // another process removed or renamed it first
      }
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const s = await stat(this.path(key));
      return s.isFile() ? { key, size: s.size } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) {
          if (!(dir === this.root && e.name === TMP_DIR)) await walk(p);
        } else if (e.isFile() && !e.name.endsWith('.tmp')) {
          const key = relative(this.root, p).split(sep).join('/');
          if (key.startsWith(prefix)) out.push({ key, size: (await stat(p)).size });
        }
      }
    };
    await walk(this.root);
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  async delete(keys: string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const key of keys) {
      const target = this.path(key);
      try {
        await unlink(target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      for (let d = dirname(target); d.startsWith(this.root + sep); d = dirname(d)) dirs.add(d);
    }
    // Deepest first, so a run's folder goes once its files and subfolders are gone.
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
      try {
        await rmdir(d);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      }
    }
  }
}
