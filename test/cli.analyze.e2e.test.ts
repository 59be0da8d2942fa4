/**
 * `pie analyze RUN --tie-rule smallest --alpha 0.01` on a copy of the tiny run: a new analysis
 * from the stored predictions, recorded with its settings in analysis.json and the manifest;
 * nothing else in the run changes, and nothing is trained.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { analyzeRun } from '../lib/analysis/index.ts';
import { parseManifest } from '../lib/manifest.ts';

const root = join(import.meta.dirname, '..');
const pie = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin/pie.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('pie analyze', () => {
  it('re-analyses a finished run with another tie rule and alpha, from its stored predictions only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pie-analyze-'));
    cpSync(inject('tinyRunDir'), dir, { recursive: true });
    const runId = readFileSync(join(dir, 'latest'), 'utf8').trim();
    const runDir = join(dir, runId);
    const before = parseManifest(readFileSync(join(runDir, 'manifest.json'), 'utf8'));
    expect(JSON.parse(readFileSync(join(runDir, 'analysis.json'), 'utf8'))).toMatchObject({ tieRule: 'largest', alpha: 0.05 });

    const r = pie(['analyze', runId, '--runs-dir', dir, '--tie-rule', 'smallest', '--alpha', '0.01']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`analysed ${runId} again \\(tie rule smallest, alpha 0.01\\)`));
    expect(r.stderr).not.toMatch(/train|evaluate/i);

    const analysisBytes = readFileSync(join(runDir, 'analysis.json'));
    const analysis = JSON.parse(analysisBytes.toString('utf8'));
    const after = parseManifest(readFileSync(join(runDir, 'manifest.json'), 'utf8'));
    expect(analysis).toMatchObject({ tieRule: 'smallest', alpha: 0.01 });
    expect(after.settings).toMatchObject({ tieRule: 'smallest', alpha: 0.01 });
    // The same analysis the library gives on the stored predictions with those settings.
    const predictions = new Uint8Array(readFileSync(join(runDir, 'predictions.bin')));
    const labels = new Uint8Array(readFileSync(join(runDir, 'eval/labels.bin')));
    const expected = analyzeRun({
      predictions, labels, numClasses: before.dataset.numClasses, levelNames: before.levels.map((l) => l.name), K: before.K, tieRule: 'smallest', alpha: 0.01,
    }).summary;
    expect(analysis).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(after.metrics.levels.map((l) => l.pieCount)).toEqual(expected.levels.map((l) => l.pieCount));
    // The manifest lists the new analysis.json; every other file is untouched and still matches it.
    for (const f of after.files) {
      const bytes = readFileSync(join(runDir, f.path));
      expect([bytes.length, sha(bytes)], f.path).toEqual([f.bytes, f.sha256]);
      if (f.path !== 'analysis.json') expect(f, f.path).toEqual(before.files.find((g) => g.path === f.path));
    }
    expect(after.runId).toBe(runId);
    expect(readFileSync(join(dir, 'latest'), 'utf8').trim()).toBe(runId);

    // Settings not given: the run's own are kept.
    const again = pie(['analyze', '--runs-dir', dir, '--alpha', '0.2']);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(runDir, 'analysis.json'), 'utf8'))).toMatchObject({ tieRule: 'smallest', alpha: 0.2 });
  });

  it('names the problem for a run that does not exist or an alpha out of range', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pie-analyze-'));
    cpSync(inject('tinyRunDir'), dir, { recursive: true });
    const missing = pie(['analyze', 'no-such-run', '--runs-dir', dir]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/run 'no-such-run' has no manifest/);
    const bad = pie(['analyze', '--runs-dir', dir, '--alpha', '1.5']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--alpha: expected a number in \(0, 1\), got 1.5/);
  });
});
