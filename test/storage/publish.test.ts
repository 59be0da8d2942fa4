/**
 * publishRun's guarantees, between two local stores (the bucket's behaviour is in
 * s3.e2e.test.ts, its request retries in s3-retry.e2e.test.ts): the order of writes, checks
 * before and after upload, re-uploads of objects that read back wrong.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { LATEST_KEY, latestRunId, type ObjectInfo, type Store } from '../../lib/store.ts';
import { PublishError, publishRun } from '../../trainer/publish.ts';
import { FsStore } from '../../node/store-fs.ts';

const source = new FsStore(inject('tinyRunDir'));
const runId = readFileSync(join(inject('tinyRunDir'), 'latest'), 'utf8').trim();
const fast = {};
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

  it('uploads an object again when it reads back wrong, and gives up after uploadAttempts', async () => {
    const dst = new Recorder(emptyStore(), (key, attempt) => (key.endsWith('eval/labels.bin') && attempt <= 2 ? 'corrupt' : null));
    const lines: string[] = [];
    const r = await publishRun(source, dst, runId, { log: (l) => lines.push(l) });
    expect(r.retries).toBe(2);
    expect(dst.attempts.get(`${runId}/eval/labels.bin`)).toBe(3);
    expect(lines.filter((l) => /eval\/labels\.bin read back wrong after upload \d; uploading it again/.test(l))).toHaveLength(2);
    expect(await latestRunId(dst)).toBe(runId);

    const bad = new Recorder(emptyStore(), (key) => (key.endsWith('eval/labels.bin') ? 'corrupt' : null));
    await expect(publishRun(source, bad, runId, { uploadAttempts: 2 })).rejects.toThrow(/eval\/labels\.bin reads back with a different size or SHA-256 after 2 upload/);
    expect(bad.attempts.get(`${runId}/eval/labels.bin`)).toBe(2);
    expect(await latestRunId(bad)).toBeNull();
  });

  it('does not retry a failed request itself (the client of the store does): one attempt, then the error', async () => {
    const dst = new Recorder(emptyStore(), (key) => (key.endsWith('predictions.bin') ? http(503, 'ServiceUnavailable') : null));
    await expect(publishRun(source, dst, runId, fast)).rejects.toThrow(/ServiceUnavailable/);
    expect(dst.attempts.get(`${runId}/predictions.bin`)).toBe(1);
    expect(await latestRunId(dst)).toBeNull();
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
