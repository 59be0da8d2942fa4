import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, levelsOf, publishedSettings, resolveConfig } from './config.ts';
import { defaultRunId } from './pipeline.ts';

describe('run config', () => {
  it('quick preset: K ≥ 8, dense + 50/90/99 % + three quantized levels', () => {
    const cfg = resolveConfig('quick');
    expect(cfg.K).toBeGreaterThanOrEqual(8);
    expect(levelsOf(cfg).map((l) => l.name)).toEqual(['dense', 'p50', 'p90', 'p99', 'f16', 'int8-dyn', 'int8-full']);
  });
  it('paper preset: K = 30, sparsities 10…99 %', () => {
    const cfg = resolveConfig('paper');
    expect(cfg.K).toBe(30);
    expect(cfg.sparsities).toEqual([0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99]);
    expect(levelsOf(cfg).map((l) => l.name).slice(0, 3)).toEqual(['dense', 'p10', 'p30']);
  });
  it('overrides win and are validated with the setting named', () => {
    expect(resolveConfig('quick', undefined, { K: 3, pruning: { frequency: 10 } }).pruning).toEqual({ begin: 0.1, end: 0.7, frequency: 10 });
    expect(() => resolveConfig('quick', undefined, { sparsities: [1.5] })).toThrow(/sparsities\.0/);
    expect(() => resolveConfig('quick', undefined, { K: 1 })).toThrow(ConfigError);
    expect(() => resolveConfig('nope')).toThrow(/unknown preset 'nope'/);
  });
  it('the run id depends on results-shaping settings only', () => {
    const a = resolveConfig('quick', undefined, { workers: 1 });
    const b = resolveConfig('quick', undefined, { workers: 2, engine: 'cpu' });
    const c = resolveConfig('quick', undefined, { epochs: 9 });
    expect(defaultRunId(a)).toBe(defaultRunId(b));
    expect(defaultRunId(a)).not.toBe(defaultRunId(c));
  });
  it('analysis-only settings (tieRule, alpha) leave the run id alone', () => {
    const base = resolveConfig('quick');
    expect(defaultRunId(resolveConfig('quick', undefined, { tieRule: 'smallest', alpha: 0.01 }))).toBe(defaultRunId(base));
    expect(defaultRunId(resolveConfig('quick', undefined, { seed: 2 }))).not.toBe(defaultRunId(base));
  });
  it('limits narrow the dataset they are given, whatever its kind', () => {
    const tiny = resolveConfig('tiny', undefined, { dataset: { trainLimit: 100, testLimit: 50 } } as never);
    expect(tiny.dataset).toMatchObject({ kind: 'synthetic', name: 'synthetic', train: 100, test: 50 });
    const dir = mkdtempSync(join(tmpdir(), 'pie-config-'));
    const file = join(dir, 'mnist.json');
    const classNames = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
    writeFileSync(file, JSON.stringify({ dataset: { kind: 'idx', name: 'mnist', dir: '/data/mnist', classNames } }));
    const mnist = resolveConfig('quick', file, { dataset: { trainLimit: 100 } } as never);
    expect(mnist.dataset).toEqual({ kind: 'idx', name: 'mnist', dir: '/data/mnist', classNames, trainLimit: 100 });
    expect(defaultRunId(mnist)).toMatch(/^mnist-quick-/);
    rmSync(dir, { recursive: true });
  });
  it('a dataset block with a kind replaces the one below it', () => {
    const cfg = resolveConfig('quick', undefined, { dataset: { kind: 'synthetic', train: 300 } });
    expect(cfg.dataset).toEqual({ kind: 'synthetic', name: 'synthetic', seed: 7, train: 300, test: 1000, classes: 10 });
  });
  it('the published settings leave out what is local to the machine', () => {
    const cfg = resolveConfig('quick', undefined, { runsDir: '/home/someone/runs', workers: 3, runId: 'mine' });
    const published = publishedSettings(cfg);
    for (const key of ['runsDir', 'workers', 'runId']) expect(published).not.toHaveProperty(key);
    expect(published.dataset).toEqual({ kind: 'idx', name: 'fashion-mnist' });
    expect(JSON.stringify(published)).not.toContain('/home/someone');
    expect(published).toMatchObject({ K: cfg.K, epochs: cfg.epochs, sparsities: cfg.sparsities, tieRule: 'largest', alpha: 0.05 });
  });
});
