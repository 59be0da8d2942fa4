import { ConfigError, levelsOf, type RunConfig } from './config.ts';

/** Shard `index` of `count` (0-based, like a Kubernetes Indexed Job's JOB_COMPLETION_INDEX). */
export interface Shard {
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const shard = m && { index: Number(m[1]), count: Number(m[2]) };
  if (!shard || shard.count < 1 || shard.index >= shard.count) {
    throw new ConfigError(`--shard wants i/n with 0 ≤ i < n (e.g. 0/3), got '${text}'`);
  }
  return shard;
}

/** The members a run trains (dense and pruned levels; quantized ones derive from dense), in a fixed order. */
export function trainedMembers(cfg: RunConfig): { level: string; member: number }[] {
  return levelsOf(cfg).filter((l) => l.kind !== 'quantized')
    .flatMap((l) => Array.from({ length: cfg.K }, (_, member) => ({ level: l.name, member })));
}

/**
 * Round-robin over `trainedMembers`: shard i trains members i, i + n, i + 2n… of that list.
 * The assignment depends on the config alone (never on time, hosts or what is finished), so every
 * shard process agrees on it, and shard sizes differ by at most one member. What a member learns
 * does not depend on it either: seeds and data order come from (seed, level, member) only.
 */
export function shardFilter(cfg: RunConfig, shard: Shard): (level: string, member: number) => boolean {
  const mine = new Set(trainedMembers(cfg).filter((_, j) => j % shard.count === shard.index).map((p) => `${p.level}/${p.member}`));
  return (level, member) => mine.has(`${level}/${member}`);
}
