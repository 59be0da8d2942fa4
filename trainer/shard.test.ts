import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.ts';
import { parseShard, shardFilter, trainedMembers } from './shard.ts';

describe('sharding', () => {
  const cfg = resolveConfig('quick', undefined, { workers: 1 });

  it('parses i/n and rejects what is not a shard of n', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    for (const bad of ['3/3', '-1/3', '1/0', '1', 'a/b', '1/2/3']) expect(() => parseShard(bad), bad).toThrow(/--shard wants i\/n/);
  });

  it('gives every trained member to exactly one shard, sizes differing by at most one', () => {
    const all = trainedMembers(cfg);
    expect(all.length).toBe(4 * 10); // dense + 3 pruned levels, K = 10; quantized levels come from dense members
    for (const n of [1, 3, 7, 40, 50]) {
      const filters = Array.from({ length: n }, (_, i) => shardFilter(cfg, { index: i, count: n }));
      const sizes = filters.map((f) => all.filter((p) => f(p.level, p.member)).length);
      for (const p of all) expect(filters.filter((f) => f(p.level, p.member)).length).toBe(1);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('depends on the config alone: the same assignment every time it is computed', () => {
    const a = shardFilter(cfg, { index: 1, count: 3 });
    const b = shardFilter(resolveConfig('quick', undefined, { workers: 4 }), { index: 1, count: 3 });
    expect(trainedMembers(cfg).map((p) => a(p.level, p.member))).toEqual(trainedMembers(cfg).map((p) => b(p.level, p.member)));
  });
});
