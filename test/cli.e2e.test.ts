/**
 * End to end through the CLI on a small slice of real Fashion-MNIST: a few members, one epoch.
 * Checks what a user relies on: the report, a valid manifest whose files match their hashes,
 * pruned members at their target sparsity, and that a killed run resumes without redoing work.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../lib/manifest.ts';
import { decodeModel, sparsityOf } from '../lib/model/index.ts';

const root = join(import.meta.dirname, '..');
const pie = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin/pie.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 600_000 });
const slice = ['--train-limit', '3000', '--test-limit', '1000', '-K', '3', '--epochs', '1', '--sparsities', '0.2,0.5,0.9', '--quiet'];

describe('pie run on a Fashion-MNIST slice', () => {
  const runsDir = mkdtempSync(join(tmpdir(), 'pie-e2e-'));
  let out: ReturnType<typeof pie>;
  beforeAll(() => {
    out = pie(['run', ...slice, '--runs-dir', runsDir]);
  });

  it('finishes and prints the per-level report', () => {
    expect(out.stderr).not.toMatch(/Error/);
    expect(out.status).toBe(0);
    for (const level of ['dense', 'p20', 'p50', 'p90', 'f16', 'int8-dyn', 'int8-full']) expect(out.stdout).toMatch(new RegExp(`^${level} `, 'm'));
    expect(out.stdout).toMatch(/PIEs/);
    expect(out.stderr).toMatch(/engine: (wasm|tensorflow|cpu)/);
  });

  it('writes a valid manifest whose every file matches its size and SHA-256', () => {
    const runId = readFileSync(join(runsDir, 'latest'), 'utf8').trim();
    const manifest = parseManifest(readFileSync(join(runsDir, runId, 'manifest.json'), 'utf8'));
    expect(manifest.K).toBe(3);
    expect(manifest.levels.map((l) => l.name)).toEqual(['dense', 'p20', 'p50', 'p90', 'f16', 'int8-dyn', 'int8-full']);
    // predictions, analysis, eval images, their per-image hashes, labels, dataset.json; a model and a record per member;
    // the quick preset's five corrupted prediction sets and their analysis.
    expect(manifest.files.length).toBe(6 + 2 * 7 * 3 + 5 + 1);
    expect(manifest.robustness!.sets.map((x) => x.key)).toEqual(['impulse_noise-3', 'brightness-3', 'contrast-3', 'rotate-3', 'translate-3']);
    expect(manifest.classBytes).toBe(1);
    for (const f of manifest.files) {
      const bytes = readFileSync(join(runsDir, runId, f.path));
      expect(bytes.length, f.path).toBe(f.bytes);
      expect(createHash('sha256').update(bytes).digest('hex'), f.path).toBe(f.sha256);
    }
    expect(readFileSync(join(runsDir, runId, 'predictions.bin')).length).toBe(7 * 3 * 1000);
    // One SHA-256 per evaluation image, in image order.
    const images = readFileSync(join(runsDir, runId, 'eval/images.bin')), hashes = readFileSync(join(runsDir, runId, 'eval/images.sha256'));
    expect(hashes.length).toBe(1000 * 32);
    const px = images.length / 1000;
    expect(hashes.subarray(999 * 32).toString('hex')).toBe(createHash('sha256').update(images.subarray(999 * px)).digest('hex'));
    expect(manifest.metrics.kernelAgreement).toBeGreaterThanOrEqual(0.999);
    // No temporary files left behind.
    const all = readdirSync(join(runsDir, runId), { recursive: true }) as string[];
    expect(all.filter((p) => p.endsWith('.tmp'))).toEqual([]);
  });

  it('stores pruned members at their target sparsity, as CSR where that is smaller than dense (p50, p90), else dense (p20)', () => {
    const runId = readFileSync(join(runsDir, 'latest'), 'utf8').trim();
    const manifest = parseManifest(readFileSync(join(runsDir, runId, 'manifest.json'), 'utf8'));
    const size = (p: string) => manifest.files.find((f) => f.path === p)!.bytes;
    const denseBytes = size(manifest.levels[0].members[0].model);
    for (const level of manifest.levels.filter((l) => l.kind === 'pruned')) {
      expect(level.format).toBe(level.sparsity < 1 / 3 ? 'dense-f32' : 'sparse-f32');
      for (const m of level.members) {
        const model = decodeModel(new Uint8Array(readFileSync(join(runsDir, runId, m.model))));
        for (const layer of sparsityOf(model)) {
          const expectedZeros = layer.total - Math.round(layer.total * (1 - level.sparsity));
          expect(Math.abs(layer.total - layer.nonzeros - expectedZeros)).toBeLessThanOrEqual(1);
        }
        if (level.format === 'sparse-f32') expect(size(m.model)).toBeLessThan(denseBytes);
        else expect(size(m.model)).toBe(denseBytes);
      }
    }
  });

  it('pie report reads the finished run back', () => {
    const r = pie(['report', '--runs-dir', runsDir]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^p90 /m);
  });

  it('a re-run with the same config skips every finished member', () => {
    const r = pie(['train', ...slice, '--runs-dir', runsDir]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/12 member\(s\) already finished, skipped/);
    expect(r.stderr).not.toMatch(/^train: done/m);
  });
});

describe('a killed run', () => {
  it('resumes from the members it finished and never leaves a half-written file', async () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'pie-kill-'));
    const args = ['train', ...slice, '--runs-dir', runsDir, '--workers', '1'];
    const child = spawn(process.execPath, [join(root, 'bin/pie.js'), ...args], { cwd: root, stdio: 'ignore' });
    // Wait for the first finished member, then kill the process hard.
    const deadline = Date.now() + 300_000;
    const records = () => {
      const dirs = existsSync(runsDir) ? readdirSync(runsDir) : [];
      return dirs.flatMap((d) => (existsSync(join(runsDir, d, 'members')) ? readdirSync(join(runsDir, d, 'members'), { recursive: true }) as string[] : []))
        .filter((p) => p.endsWith('.json'));
    };
    while (records().length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const finished = records().length;
    expect(finished).toBeGreaterThanOrEqual(1);
    expect(finished).toBeLessThan(9);
    const r = pie(['run', ...slice, '--runs-dir', runsDir]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`${finished} member\\(s\\) already finished, skipped`));
    const runId = readFileSync(join(runsDir, 'latest'), 'utf8').trim();
    const all = readdirSync(join(runsDir, runId), { recursive: true }) as string[];
    expect(all.filter((p) => p.endsWith('.tmp'))).toEqual([]);
  }, 600_000);
});
