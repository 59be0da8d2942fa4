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
import { FsStore } from '../../node/store-fs.ts';
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

describe('Label Studio with a 1000-class run', () => {
  let ls: NodeServer;
  beforeAll(async () => {
    ls = await startNodeServer({ runsDir: inject('wideRunDir'), port: 0, env: { PIE_PUBLIC_READS: 'true', PIE_LABEL_STUDIO_RUN: WIDE_RUN.runId } });
  });
  afterAll(() => ls?.close());

  it('gets a labeling config whose 1000 choices sit behind a search box', async () => {
    const r = await fetch(`${ls.url}/v1/runs/${WIDE_RUN.runId}/label-studio-config`);
    expect(r.status).toBe(200);
    const xml = await r.text();
    expect(xml.match(/<Choice value=/g)).toHaveLength(1000);
    expect(xml).toMatch(/<Filter name="class_filter" toName="label" [^>]*placeholder="Search 1000 classes"\/>/);
    expect(xml).toMatch(/<Choices name="label" toName="image" choice="single" showInline="false">/);
    expect(xml).toContain('<Choice value="class 0999"/>');
  });

  it('sets up with that config and pre-labels a task with one of the run’s classes', async () => {
    const config = await (await fetch(`${ls.url}/v1/runs/${WIDE_RUN.runId}/label-studio-config`)).text();
    const setup = await fetch(`${ls.url}/ml/setup`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project: '1.1763629000', schema: config, hostname: 'http://localhost:8080', access_token: 'x', extra_params: null }),
    });
    expect(setup.status).toBe(200);
    expect(await setup.json()).toMatchObject({ model_version: WIDE_RUN.runId });
    const png = new Uint8Array(await (await fetch(`${ls.url}/v1/runs/${WIDE_RUN.runId}/images/2999/image.png`)).arrayBuffer());
    const image = `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
    const r = await fetch(`${ls.url}/ml/predict`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tasks: [{ id: 1, data: { image } }], project: '1.1763629000', label_config: config, params: {} }),
    });
    expect(r.status).toBe(200);
    const body = await r.json() as { results: { result: { from_name: string; to_name: string; value: { choices: string[] } }[] }[] };
    expect(body.results).toHaveLength(1);
    const [result] = body.results[0].result;
    expect(result).toMatchObject({ from_name: 'label', to_name: 'image' });
    expect(result.value.choices[0]).toMatch(/^class \d{4}$/);
  });
});
