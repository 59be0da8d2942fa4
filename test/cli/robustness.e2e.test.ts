/**
 * Corrupted test sets and an attributes file through the CLI on the tiny preset: the report's
 * tables, the files in the manifest with their SHA-256, a resumed run that reuses finished sets,
 * and the errors a user gets for bad names and bad attribute files.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../lib/manifest.ts';
import type { RobustnessSummary, SubgroupSummary } from '../../lib/analysis/index.ts';
import { plantedAttributes } from '../robust-run.ts';

const root = join(import.meta.dirname, '../..');
const pie = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin/pie.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });

describe('pie run --corruptions --attributes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pie-robust-'));
  const runsDir = join(dir, 'runs');
  const attributes = plantedAttributes(dir);
  const args = ['run', '--preset', 'tiny', '--runs-dir', runsDir, '--quiet', '--corruptions', 'brightness,rotate', '--severities', '1,3', '--attributes', attributes];
  let first: ReturnType<typeof pie>;
  beforeAll(() => { first = pie(args); });
  const manifest = () => {
    const runId = readFileSync(join(runsDir, 'latest'), 'utf8').trim();
    return { runId, m: parseManifest(readFileSync(join(runsDir, runId, 'manifest.json'), 'utf8')) };
  };

  it('prints the robustness and subgroup tables after the per-level report', () => {
    expect(first.stderr).not.toMatch(/Error/);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^robustness: /m);
    expect(first.stdout).toMatch(/^level\s+clean acc %\s+brightness-1 %\s+brightness-3 %\s+rotate-1 %\s+rotate-3 %\s+mCE/m);
    expect(first.stdout).toMatch(/^p90 /m);
    expect(first.stdout).toMatch(/^subgroups: 8 \(group: 2 values, side: 2 values, and pairs\)/m);
    expect(first.stdout).toMatch(/^group=a&side=left\s+17 /m);
  });

  it('lists every corrupted prediction file, the analyses and the attributes in the manifest, each matching its SHA-256', () => {
    const { runId, m } = manifest();
    expect(m.robustness!.sets.map((s) => s.key)).toEqual(['brightness-1', 'brightness-3', 'rotate-1', 'rotate-3']);
    const kinds = m.files.filter((f) => f.kind === 'corrupted-predictions').map((f) => f.path);
    expect(kinds).toEqual(m.robustness!.sets.map((s) => s.path));
    for (const f of m.files.filter((x) => ['corrupted-predictions', 'attributes', 'analysis'].includes(x.kind))) {
      const bytes = readFileSync(join(runsDir, runId, f.path));
      expect(bytes.length, f.path).toBe(f.bytes);
      expect(createHash('sha256').update(bytes).digest('hex'), f.path).toBe(f.sha256);
    }
    // [levels × K × N], 1 byte per class index for 10 classes.
    expect(readFileSync(join(runsDir, runId, 'robustness/rotate-3.bin')).length).toBe(6 * 4 * 500);
    expect(m.subgroups).toMatchObject({ columns: ['group', 'side'], source: { file: 'attributes.csv', sha256: createHash('sha256').update(readFileSync(attributes)).digest('hex') } });
    const sub = JSON.parse(readFileSync(join(runsDir, runId, 'subgroups.json'), 'utf8')) as SubgroupSummary;
    expect(sub.subgroups.find((g) => g.key === 'group=a')!.size).toBe(50);
    const rob = JSON.parse(readFileSync(join(runsDir, runId, 'robustness/analysis.json'), 'utf8')) as RobustnessSummary;
    expect(rob.levels.map((l) => l.name)).toEqual(m.levels.map((l) => l.name));
    expect(rob.levels[0].mCE).toBe(1);
  });

  it('pie report prints the same robustness and subgroup tables from the stored run', () => {
    const r = pie(['report', '--runs-dir', runsDir]);
    expect(r.status).toBe(0);
    const from = (text: string) => text.slice(text.indexOf('robustness: '));
    expect(from(r.stdout)).toBe(from(first.stdout));
  });

  it('pie analyze redoes the robustness and subgroup analyses with the new alpha, hashes updated', () => {
    const r = pie(['analyze', '--runs-dir', runsDir, '--alpha', '0.01']);
    expect(r.status, r.stderr).toBe(0);
    const { runId, m } = manifest();
    const rob = JSON.parse(readFileSync(join(runsDir, runId, 'robustness/analysis.json'), 'utf8')) as RobustnessSummary;
    const sub = JSON.parse(readFileSync(join(runsDir, runId, 'subgroups.json'), 'utf8')) as SubgroupSummary;
    expect([rob.alpha, sub.alpha]).toEqual([0.01, 0.01]);
    for (const path of ['robustness/analysis.json', 'subgroups.json']) {
      const f = m.files.find((x) => x.path === path)!;
      expect(createHash('sha256').update(readFileSync(join(runsDir, runId, path))).digest('hex'), path).toBe(f.sha256);
    }
  });

  it('keeps the run id of the same run without corruptions: they do not shape the models', () => {
    const plain = pie(['run', '--preset', 'tiny', '--runs-dir', join(dir, 'plain'), '--quiet']);
    expect(plain.status).toBe(0);
    expect(readFileSync(join(dir, 'plain', 'latest'), 'utf8')).toBe(readFileSync(join(runsDir, 'latest'), 'utf8'));
  });

  it('resumes: finished sets are skipped, new severities evaluated', () => {
    const again = pie([...args.slice(0, -4), '--severities', '1,3,5', '--attributes', attributes]);
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/corruptions: 4 set\(s\) already finished, skipped/);
    expect(again.stderr).toMatch(/2 corrupted set\(s\)/);
    expect(manifest().m.robustness!.sets.map((s) => s.key)).toEqual(['brightness-1', 'brightness-3', 'brightness-5', 'rotate-1', 'rotate-3', 'rotate-5']);
  });

  it('refuses an unknown corruption naming the valid ones', () => {
    const bad = pie([...args.slice(0, 6), '--corruptions', 'brightness,fogg']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--corruptions: unknown corruption "fogg"; choose "all" or from .*brightness/);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it('refuses an attributes file with missing or unknown rows, naming the first few', () => {
    const short = join(dir, 'short');
    const file = plantedAttributes(mkdtempSync(join(tmpdir(), 'pie-attr-')), 497);
    const r = pie(['run', '--preset', 'tiny', '--runs-dir', short, '--quiet', '--attributes', file]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/3 test image\(s\) have no row: "497", "498", "499"/);
    expect(r.stderr).not.toMatch(/^train:/m); // refused before any training
    writeFileSync(file, `${readFileSync(file, 'utf8')}497,a,left\n498,a,left\n499,a,left\n612,a,left\n`);
    const r2 = pie(['run', '--preset', 'tiny', '--runs-dir', short, '--quiet', '--attributes', file]);
    expect(r2.stderr).toMatch(/1 row\(s\) name no test image \(expected a test image index 0…499\): "612"/);
  });
});
