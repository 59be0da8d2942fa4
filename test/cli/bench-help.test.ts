/** Every benchmark script answers --help with its options (and exits 0) instead of crashing. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

describe('benchmark --help', () => {
  it.each([
    ['bench:train', '--examples'], ['bench:api', '--runs-dir'], ['bench:publish', '--large-mb'], ['bench:kernels', '--images'],
  ])('npm run %s -- --help lists its options', (script, option) => {
    const r = spawnSync('npm', ['run', '-s', script, '--', '--help'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).not.toContain('ERR_PARSE_ARGS');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(option);
    expect(r.stdout).toContain('(default: ');
  }, 120_000);

  it('an unknown option gets the usage and status 2', () => {
    const r = spawnSync('npm', ['run', '-s', 'bench:train', '--', '--nope'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Unknown option '--nope'");
    expect(r.stderr).toContain('--examples');
  }, 120_000);
});
