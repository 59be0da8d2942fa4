/**
 * The 1000-class run on Node: the shared behaviours (test/api/wide-behaviours.ts), plus what
 * only a file store shows — evaluation images are read one at a time by range, never whole,
 * and a damaged image fails on its own with a clear error while its neighbours still serve.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startNodeServer, type NodeServer } from '../../api/node.ts';
import { FsStore } from '../../trainer/store-fs.ts';
import { WIDE_RUN } from '../wide-run.ts';
import { wideRunBehaviours } from './wide-behaviours.ts';

/** A file store that records what is read whole and what by range. */
class RecordingStore extends FsStore {
  whole: string[] = [];
  ranges: string[] = [];
  override get(key: string) { this.whole.push(key); return super.get(key); }
  override getRange(key: string, offset: number, length: number) { this.ranges.push(key); return super.getRange(key, offset, length); }
}

let server: NodeServer;
let store: RecordingStore;
beforeAll(async () => {
  store = new RecordingStore(inject('wideRunDir'));
  server = await startNodeServer({ store, port: 0, env: { PIE_API_KEYS: 'node-test-key' } });
});
afterAll(() => server?.close());

describe('1000-class run on Node', () => {
  wideRunBehaviours(() => ({ key: 'node-test-key', fetch: (path, init) => fetch(`${server.url}${path}`, init) }));

  it('never reads the evaluation image file whole', () => {
    expect(store.ranges).toContain(`${WIDE_RUN.runId}/eval/images.bin`);
    expect(store.whole).not.toContain(`${WIDE_RUN.runId}/eval/images.bin`);
  });
});

describe('a damaged evaluation image', () => {
  let damaged: NodeServer;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pie-wide-damaged-'));
    cpSync(inject('wideRunDir'), dir, { recursive: true });
    const path = join(dir, WIDE_RUN.runId, 'eval/images.bin');
    const bytes = readFileSync(path);
    bytes[7 * WIDE_RUN.imageSize ** 2 + 3] ^= 0xff; // one pixel of image 7
    writeFileSync(path, bytes);
    damaged = await startNodeServer({ runsDir: dir, port: 0, env: { PIE_PUBLIC_READS: 'true' } });
  });
  afterAll(() => damaged?.close());

  it('fails alone, naming the image; the others still serve', async () => {
    const bad = await fetch(`${damaged.url}/v1/runs/${WIDE_RUN.runId}/images/7/image.png`);
    expect(bad.status).toBe(500);
    expect(await bad.json()).toMatchObject({ error: { code: 'corrupt_run', message: expect.stringMatching(/evaluation image 7 does not match its SHA-256/) } });
    expect((await fetch(`${damaged.url}/v1/runs/${WIDE_RUN.runId}/images/8/image.png`)).status).toBe(200);
    expect((await fetch(`${damaged.url}/v1/runs/${WIDE_RUN.runId}/images/7`)).status).toBe(200);
  });
});
