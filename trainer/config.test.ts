import { describe, expect, it } from 'vitest';
import { ConfigError, levelsOf, resolveConfig } from './config.ts';
import { defaultRunId } from './pipeline.ts';

describe('run config', () => {
  it('quick preset: K ≥ 8, dense + 50/90/99 % + three quantized levels', () => {
    const cfg = resolveConfig('quick');
    expect(cfg.K).toBeGreaterThanOrEqual(8);
    expect(levelsOf(cfg).map((l) => l.name)).toEqual(['dense', 'p50', 'p90', 'p99', 'f16', 'int8-dyn', 'int8-full']);
  });
  it('paper preset: K = 30, sparsities 30…99 %', () => {
    const cfg = resolveConfig('paper');
    expect(cfg.K).toBe(30);
    expect(cfg.sparsities).toEqual([0.3, 0.5, 0.7, 0.9, 0.95, 0.99]);
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
});
