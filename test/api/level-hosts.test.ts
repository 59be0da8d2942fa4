/**
 * The level-host plan and the front's merge, in process: groups within the budget, the same
 * level always in the same group, hosts' predictions merged member by member, and a host that
 * fails or answers nonsense turned into a clear error. (In workerd, through service bindings:
 * test/workers/level-hosts.test.ts and test/api/level-hosts-wrangler.test.ts.)
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { liveMemberPredictions } from '../../api/answer.ts';
import { answerLevelHostCall, planLevelGroups, spreadOverLevelHosts, type LevelHostFigures, type LevelHostStub } from '../../api/level-hosts.ts';
import { PredictorCache } from '../../api/predictor-cache.ts';
import { RunRepository, type LoadedRun } from '../../api/runs.ts';
import { PIXEL_SCALE } from '../../lib/model/types.ts';
import { FsStore } from '../../node/store-fs.ts';
import { installNodeKernels } from '../../node/wasm-kernels.ts';

describe('planLevelGroups', () => {
  it('packs whole levels into groups within the budget, largest first, numbered by their first level', () => {
    const plan = planLevelGroups([30, 30, 20, 10, 5, 70], 64);
    // 70 fits no group; 30 + 30 fill the first; 20, 10 and 5 share the second.
    expect(plan).toEqual({ groupOf: [0, 0, 1, 1, 1, -1], groups: 2 });
    expect(planLevelGroups([10, 50, 10, 50], 64)).toEqual({ groupOf: [0, 0, 1, 1], groups: 2 });
  });

  it('keeps every group within the budget on random sizes', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let r = 0; r < 200; r++) {
      const sizes = Array.from({ length: 1 + Math.floor(rand() * 14) }, () => Math.floor(rand() * 80));
      const { groupOf, groups } = planLevelGroups(sizes, 64);
      for (let g = 0; g < groups; g++) expect(sizes.filter((_, t) => groupOf[t] === g).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(64);
      sizes.forEach((s, t) => expect(groupOf[t] === -1).toBe(s > 64));
    }
  });
});

describe('spreadOverLevelHosts (in process)', () => {
  let run: LoadedRun;
  let input: Float32Array;
  let hostRepo: RunRepository;
  let budget: number;
  beforeAll(async () => {
    await installNodeKernels();
    const store = new FsStore(inject('tinyRunDir'));
    run = await new RunRepository(store).get('latest');
    input = Float32Array.from(await run.image(5), (v) => v * PIXEL_SCALE);
    const sizes = run.manifest.levels.map((_, t) => run.levelFileBytes(t));
    budget = Math.max(...sizes) * 1.2;
    // A second repository plays the host isolate: its own loaded run and predictor cache.
    hostRepo = new RunRepository(store, {}, new PredictorCache(budget));
  });
  const realHost = (id: string): LevelHostStub => ({ predict: (call) => answerLevelHostCall({ id, repo: hostRepo, wasmMemoryBytes: () => 0 }, call) });

  it('merges the hosts\' member predictions into what one place predicts', async () => {
    const seen: LevelHostFigures[][] = [];
    const spread = spreadOverLevelHosts([{ name: 'A', stub: realHost('a') }, { name: 'B', stub: realHost('b') }], budget);
    const got = await spread(run, input, undefined, (f) => seen.push(f));
    expect(Array.from(got)).toEqual(Array.from(await liveMemberPredictions(run, input)));
    const hosts = seen[0];
    expect(hosts.length).toBeGreaterThan(1);
    expect(new Set(hosts.map((h) => h.host))).toEqual(new Set(['A', 'B']));
    expect(hosts.flatMap((h) => h.levels).sort()).toEqual(run.manifest.levels.map((l) => l.name).sort());
    // Asked again, a level goes to the same host as before.
    const again: LevelHostFigures[][] = [];
    await spread(run, input, [0, 2], (f) => again.push(f));
    for (const h of again[0]) for (const l of h.levels) expect(hosts.find((x) => x.levels.includes(l))!.host).toBe(h.host);
  });

  it('predicts here when the whole run fits the budget', async () => {
    const never: LevelHostStub = { predict: () => { throw new Error('called'); } };
    const seen: LevelHostFigures[][] = [];
    const got = await spreadOverLevelHosts([{ name: 'A', stub: never }], 1e12)(run, input, undefined, (f) => seen.push(f));
    expect(Array.from(got)).toEqual(Array.from(await liveMemberPredictions(run, input)));
    expect(seen).toEqual([]);
  });

  it('turns a failed host into a 502 naming it, and passes on its own 4xx', async () => {
    const spreadWith = (stub: LevelHostStub) => spreadOverLevelHosts([{ name: 'PIE_LEVELS_2', stub }], budget)(run, input);
    await expect(spreadWith({ predict: async () => { throw new Error('Worker exceeded memory limit'); } })).rejects.toMatchObject({
      status: 502, code: 'level_host_failed', message: expect.stringMatching(/^level host PIE_LEVELS_2 \(levels .* of run .*\) failed: Worker exceeded memory limit/),
    });
    await expect(spreadWith({ predict: async () => ({ predictions: new Uint8Array(1), figures: {} as never }) })).rejects.toMatchObject({
      status: 502, message: expect.stringMatching(/answered 1 predictions, not \d+ × 4 classes/),
    });
    await expect(spreadWith({ predict: async (call) => ({ predictions: new Uint8Array(call.levels.length * 4).fill(200), figures: {} as never }) })).rejects.toMatchObject({ status: 502 });
    await expect(spreadWith({ predict: async () => ({ error: { status: 422, code: 'over_memory_budget', message: 'level p50 needs…' } }) })).rejects.toMatchObject({
      status: 422, code: 'over_memory_budget', message: 'level p50 needs…',
    });
    await expect(spreadWith({ predict: async () => ({ error: { status: 500, code: 'corrupt_run', message: 'bad file' } }) })).rejects.toMatchObject({
      status: 502, message: expect.stringMatching(/failed: corrupt_run: bad file/),
    });
  });
});
