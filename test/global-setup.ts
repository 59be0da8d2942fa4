/**
 * Builds one small run with the real trainer CLI (the `tiny` preset: synthetic data, seconds)
 * and hands it to the test projects: its directory (Node tests) and its files as base64
 * (Workers tests seed their R2 bucket with them).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    tinyRunDir: string;
    tinyRunFiles: Record<string, string>;
  }
}

let built: { dir: string; files: Record<string, string> } | null = null;

function build() {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'pie-tiny-run-'));
  const root = join(import.meta.dirname, '..');
  const r = spawnSync(process.execPath, [join(root, 'bin/pie.js'), 'run', '--preset', 'tiny', '--runs-dir', dir, '--quiet'], { encoding: 'utf8', cwd: root });
  if (r.status !== 0) throw new Error(`building the test run failed:\n${r.stderr}\n${r.stdout}`);
  const files: Record<string, string> = {};
  for (const rel of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, rel);
    try {
      files[rel.split('\\').join('/')] = readFileSync(path).toString('base64');
    } catch { /* a directory */ }
  }
  built = { dir, files };
  return built;
}

export default function setup(project: TestProject) {
  const { dir, files } = build();
  project.provide('tinyRunDir', dir);
  project.provide('tinyRunFiles', files);
}
