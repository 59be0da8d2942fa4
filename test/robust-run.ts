// A tiny run with corrupted test sets and a planted attributes file, for the CLI, API and page tests.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The tiny preset's 500 test images: group=a for every 10th image, side by image index mod 3. */
export function plantedAttributes(dir: string, rows = 500): string {
  const lines = ['image,group,side'];
  for (let i = 0; i < rows; i++) lines.push(`${i},${i % 10 === 0 ? 'a' : 'b'},${i % 3 === 0 ? 'left' : 'right'}`);
  const file = join(dir, 'attributes.csv');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const root = join(import.meta.dirname, '..');

/** Builds the run; returns its folder and id. */
export function buildRobustRun(opts: { runId?: string } = {}): { runsDir: string; runId: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pie-robust-api-'));
  const runsDir = join(dir, 'runs');
  const r = spawnSync(process.execPath, [join(root, 'bin/pie.js'), 'run', '--preset', 'tiny', '--runs-dir', runsDir, '--quiet',
    '--corruptions', 'brightness,rotate', '--severities', '1,3', '--attributes', plantedAttributes(dir), ...(opts.runId ? ['--run-id', opts.runId] : [])], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the run failed:\n${r.stderr}`);
  return { runsDir, runId: readFileSync(join(runsDir, 'latest'), 'utf8').trim() };
}

