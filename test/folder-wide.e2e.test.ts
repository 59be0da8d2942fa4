/**
 * An image folder of more than 256 classes through `pie run` and the API: labels, predictions
 * and modal labels take two bytes each, and a lookup names a class whose index does not fit a byte.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeServer, type NodeServer } from '../api/node.ts';
import { pngOf } from '../lib/image/testing.ts';
import { parseManifest, type Manifest } from '../lib/manifest.ts';
import { classImage } from '../trainer/testing.ts';

const root = join(import.meta.dirname, '..');
const pie = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin/pie.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 600_000 });

const CLASSES = 300;
const name = (c: number) => `c${String(c).padStart(3, '0')}`;

describe('pie run on an image folder of 300 classes', () => {
  const runsDir = mkdtempSync(join(tmpdir(), 'pie-wide-folder-runs-'));
  let out: ReturnType<typeof pie>;
  let runId: string;
  let manifest: Manifest;
  let server: NodeServer;

  beforeAll(async () => {
    // One 8×8 colour image per class in train/ and one in test/: test image i is of class i.
    const dir = mkdtempSync(join(tmpdir(), 'pie-wide-folder-'));
    for (const split of ['train', 'test']) {
      for (let c = 0; c < CLASSES; c++) {
        mkdirSync(join(dir, split, name(c)), { recursive: true });
        const data = classImage(c, 8, 8, c * 2 + (split === 'test' ? 1 : 0));
        writeFileSync(join(dir, split, name(c), 'a.png'), pngOf({ width: 8, height: 8, data, channels: 3, depth: 8 }));
      }
    }
    out = pie(['run', '--preset', 'tiny', '--data-dir', dir, '-K', '2', '--epochs', '1', '--sparsities', '0.5', '--runs-dir', runsDir, '--quiet']);
    if (out.status !== 0) return;
    runId = readFileSync(join(runsDir, 'latest'), 'utf8').trim();
    manifest = parseManifest(readFileSync(join(runsDir, runId, 'manifest.json'), 'utf8'));
    server = await startNodeServer({ runsDir, port: 0, env: { PIE_API_KEYS: 'wide-key' } });
  }, 600_000);
  afterAll(() => server?.close());

  it('finishes', () => {
    expect(out.stderr).not.toMatch(/Error/);
    expect(out.status, out.stderr).toBe(0);
  });

  it('stores class indices two bytes wide', () => {
    expect(manifest.classBytes).toBe(2);
    expect(manifest.dataset.numClasses).toBe(CLASSES);
    expect(manifest.dataset.classNames[299]).toBe('c299');
    const levels = manifest.levels.length, N = CLASSES;
    expect(readFileSync(join(runsDir, runId, 'predictions.bin')).length).toBe(levels * 2 * N * 2);
    const labels = readFileSync(join(runsDir, runId, 'eval/labels.bin'));
    expect(labels.length).toBe(N * 2);
    expect(labels.readUInt16LE(299 * 2)).toBe(299);
    expect(manifest.dataset.classCounts!.test.every((n) => n === 1)).toBe(true);
  });

  it('answers a lookup whose true class is past 255, by index and name', async () => {
    const r = await fetch(`${server.url}/v1/runs/${runId}/images/299`, { headers: { authorization: 'Bearer wide-key' } });
    expect(r.status).toBe(200);
    const a = await r.json() as { trueLabel: { index: number; name: string }; levels: { memberPredictions: number[]; modal: { index: number; name: string } }[] };
    expect(a.trueLabel).toEqual({ index: 299, name: 'c299' });
    for (const l of a.levels) {
      expect(l.memberPredictions).toHaveLength(2);
      for (const p of l.memberPredictions) expect(p).toBeLessThan(CLASSES);
      expect(l.modal.name).toBe(name(l.modal.index));
    }
    // Its image.png uploaded with ?label=299 (a query bound once at 255) gets the same answer.
    const png = await (await fetch(`${server.url}/v1/runs/${runId}/images/299/image.png`, { headers: { authorization: 'Bearer wide-key' } })).arrayBuffer();
    const live = await fetch(`${server.url}/v1/runs/${runId}/predict?label=299`, { method: 'POST', body: png, headers: { authorization: 'Bearer wide-key', 'content-type': 'image/png' } });
    expect(live.status).toBe(200);
    const b = await live.json() as typeof a;
    expect(b.trueLabel).toEqual({ index: 299, name: 'c299' });
    expect(b.levels.map((l) => l.memberPredictions)).toEqual(a.levels.map((l) => l.memberPredictions));
  });
});
