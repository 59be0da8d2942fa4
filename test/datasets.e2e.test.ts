/**
 * Datasets through the CLI: format detection, and a run id whose data changed is refused with
 * a message that says so (its members were trained on the old data).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pngOf } from '../lib/image/testing.ts';
import { writeCifar10, writeColorFolder } from '../trainer/testing.ts';

const root = join(import.meta.dirname, '..');
const pie = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin/pie.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 600_000 });

describe('pie with --data-dir', () => {
  it('refuses a folder of no known format, naming what it looked for', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pie-empty-'));
    writeFileSync(join(dir, 'readme.txt'), 'hello');
    const r = pie(['train', '--data-dir', dir, '--quiet']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot tell the format of .*no IDX files.*no CIFAR binary batches.*no image folder.*--format idx\|cifar\|folder/);
  });

  it('refuses to resume a run whose image folder changed, and says so', () => {
    const dir = writeColorFolder(mkdtempSync(join(tmpdir(), 'pie-changing-')), { train: 6, test: 2 }).dir;
    const runsDir = mkdtempSync(join(tmpdir(), 'pie-changing-runs-'));
    const args = ['train', '--preset', 'tiny', '--data-dir', dir, '-K', '2', '--epochs', '1', '--sparsities', '0.5', '--runs-dir', runsDir, '--run-id', 'mine', '--quiet'];
    const first = pie(args);
    expect(first.stderr).not.toMatch(/Error/);
    expect(first.status).toBe(0);
    // One more image in a class: same run id, other data.
    mkdirSync(join(dir, 'train', 'cat'), { recursive: true });
    writeFileSync(join(dir, 'train', 'cat', 'zzz.png'), pngOf({ width: 24, height: 24, data: new Uint8Array(24 * 24 * 3).fill(90), channels: 3, depth: 8 }));
    const second = pie(args);
    expect(second.status).toBe(2);
    expect(second.stderr).toMatch(/run mine was started with other data \(.*18 train \/ 7 test, 3 classes, 24×24×3, fingerprint [0-9a-f]{12}\); the data now is .*19 train \/ 7 test/);
    expect(second.stderr).toMatch(/--run-id/);
  });

  it('detects CIFAR-10 and trains on it in colour', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pie-cifar-'));
    writeCifar10(dir, 20, 20);
    const runsDir = mkdtempSync(join(tmpdir(), 'pie-cifar-runs-'));
    const r = pie(['train', '--preset', 'tiny', '--data-dir', dir, '-K', '2', '--epochs', '1', '--sparsities', '0.5', '--runs-dir', runsDir, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\(100 train \/ 20 test\)/);
  });
});
