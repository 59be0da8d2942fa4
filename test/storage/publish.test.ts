/**
 * publishRun's guarantees, between two local stores (the bucket's behaviour is in
 * s3.e2e.test.ts): the order of writes, checks before and after upload, retries of transient
 * failures only.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { LATEST_KEY, latestRunId, type ObjectInfo, type Store } from '../../lib/store.ts';
import { PublishError, publishRun } from '../../trainer/publish.ts';
import { isTransient } from '../../node/retry.ts';
import { FsStore } from '../../node/store-fs.ts';

const source = new FsStore(inject('tinyRunDir'));
const runId = readFileSync(join(inject('tinyRunDir'), 'latest'), 'utf8').trim();
const fast = { retry: { baseDelayMs: 1 } };
const emptyStore = () => new FsStore(mkdtempSync(join(tmpdir(), 'pie-dst-')));

/** A store that records writes and can fail them. */
class Recorder implements Store {
  writes: string[] = [];
  attempts = new Map<string, number>();
  constructor(readonly inner: Store, readonly fail: (key: string, attempt: number) => Error | 'corrupt' | null = () => null) {}
  get(key: string) { return this.inner.get(key); }
  head(key: string): Promise<ObjectInfo | null> { return this.inner.head(key); }
  list(prefix: string) { return this.inner.list(prefix); }
  async put(key: string, data: Uint8Array | string) {
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    const failure = this.fail(key, attempt);
    if (failure === 'corrupt') return this.inner.put(key, 'not what was sent');
    if (failure) throw failure;
    this.writes.push(key);
    return this.inner.put(key, data);
  }
}

const http = (status: number, name: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('publishRun', () => {
  it('writes every file, then the manifest, then latest', async () => {
    const dst = new Recorder(emptyStore());
    const r = await publishRun(source, dst, runId, fast);
    expect(dst.writes.at(-1)).toBe(LATEST_KEY);
    expect(dst.writes.at(-2)).toBe(`${runId}/manifest.json`);
    expect(dst.writes.length).toBe(r.files + 2);
    expect(r).toMatchObject({ uploaded: r.files + 1, skipped: 0, retries: 0, latest: true });
    expect(await latestRunId(dst)).toBe(runId);
  });

  it('skips what the destination already has with the right hash, and replaces what differs', async () => {
    const dst = emptyStore();
    await publishRun(source, dst, runId, fast);
    await dst.put(`${runId}/predictions.bin`, 'stale');
    const r = await publishRun(source, dst, runId, fast);
    expect(r).toMatchObject({ uploaded: 1, skipped: r.files });
    expect(await dst.get(`${runId}/predictions.bin`)).toEqual(await source.get(`${runId}/predictions.bin`));
  });

  it('retries transient failures (HTTP 503, reset connections, a bad read-back) with backoff', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const dst = new Recorder(emptyStore(), (key, attempt) => {
      if (key.endsWith('predictions.bin') && attempt <= 2) return http(503, 'ServiceUnavailable');
      if (key.endsWith('analysis.json') && attempt === 1) return reset;
      if (key.endsWith('eval/labels.bin') && attempt === 1) return 'corrupt';
      return null;
    });
    const lines: string[] = [];
    const r = await publishRun(source, dst, runId, { ...fast, log: (l) => lines.push(l) });
    expect(r.retries).toBe(4);
    expect(lines.filter((l) => /retry \d in \d+ ms after/.test(l))).toHaveLength(4);
    expect(await latestRunId(dst)).toBe(runId);
  });

  it('stops at once on a permanent error, before the manifest and latest', async () => {
    const dst = new Recorder(emptyStore(), (key) => (key.endsWith('predictions.bin') ? http(403, 'AccessDenied') : null));
    await expect(publishRun(source, dst, runId, fast)).rejects.toThrow(/AccessDenied/);
    expect(dst.attempts.get(`${runId}/predictions.bin`)).toBe(1);
    expect(dst.writes).not.toContain(`${runId}/manifest.json`);
    expect(await latestRunId(dst)).toBeNull();
  });

  it('refuses a local file that no longer matches the manifest, and publishes nothing that makes the run visible', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pie-damaged-'));
    cpSync(inject('tinyRunDir'), dir, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(dir, runId, 'manifest.json'), 'utf8')) as { levels: { members: { model: string }[] }[] };
    const model = manifest.levels[1].members[2].model;
    const bytes = readFileSync(join(dir, runId, model));
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(join(dir, runId, model), bytes);
    const dst = new Recorder(emptyStore());
    await expect(publishRun(new FsStore(dir), dst, runId, fast)).rejects.toThrow(PublishError);
    await expect(publishRun(new FsStore(dir), dst, runId, fast)).rejects.toThrow(new RegExp(`${model} does not match its manifest`));
    expect(dst.writes).not.toContain(`${runId}/manifest.json`);
    expect(await latestRunId(dst)).toBeNull();
  });

  it('with setLatest: false, uploads the run but leaves latest alone', async () => {
    const dst = emptyStore();
    await dst.put(LATEST_KEY, 'an-older-run\n');
    const r = await publishRun(source, dst, runId, { ...fast, setLatest: false });
    expect(r.latest).toBe(false);
    expect(await dst.head(`${runId}/manifest.json`)).not.toBeNull();
    expect(await latestRunId(dst)).toBe('an-older-run');
  });
});

describe('isTransient', () => {
  it('retries network trouble, throttling and 5xx; not client errors', () => {
    for (const e of [http(500, 'InternalError'), http(503, 'SlowDown'), http(429, 'TooManyRequests'), { code: 'ETIMEDOUT' }, { name: 'TimeoutError' }]) {
      expect(isTransient(e), JSON.stringify(e)).toBe(true);
    }
    for (const e of [http(403, 'AccessDenied'), http(404, 'NoSuchBucket'), new Error('invalid store key'), null]) {
      expect(isTransient(e), String(e)).toBe(false);
    }
  });
});
