/**
 * Level hosts in isolates of their own: `wrangler dev` runs a front Worker and one level-host
 * Worker per group of levels (the same code, api/bench/wrangler-dev.ts's configurations) over a
 * local R2 bucket holding a paper-shaped run, with a predictor budget that holds only some of its
 * levels. Answers must equal Node's, each host must hold only its own group, and repeated
 * predictions must read no level again.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { levelHostConfigs, startWranglerDev, type WranglerDev } from '../../api/bench/wrangler-dev.ts';
import { planLevelGroups, type LevelHostFigures } from '../../api/level-hosts.ts';
import { startNodeServer, type NodeServer } from '../../api/node.ts';
import type { Manifest } from '../../lib/manifest.ts';
import { PAPER_SHAPE, writeSyntheticRun } from '../../lib/synthetic.ts';
import { FsStore } from '../../node/store-fs.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const RUN = 'paper-shaped-small';
let manifest: Manifest;
let groupOf: number[];
let groups: number;
let budget: number;
let dev: WranglerDev;
let node: NodeServer;
let removeConfigs = () => {};

beforeAll(async () => {
  const runsDir = mkdtempSync(join(tmpdir(), 'pie-level-hosts-'));
  manifest = await writeSyntheticRun(new FsStore(runsDir), { ...PAPER_SHAPE, runId: RUN, images: 40, K: 3, hidden: [40, 20], seed: 5 });
  const levelBytes = manifest.levels.map((l) => l.members.reduce((a, m) => a + manifest.files.find((f) => f.path === m.model)!.bytes, 0));
  budget = Math.max(...levelBytes) * 1.3;
  ({ groupOf, groups } = planLevelGroups(levelBytes, budget));
  const vars = { PIE_PUBLIC_READS: 'true', PIE_PREDICTOR_BUDGET_MB: String(budget / 1024 / 1024) };
  const setup = levelHostConfigs(groups, vars);
  removeConfigs = setup.remove;
  [dev, node] = await Promise.all([startWranglerDev(runsDir, {}, { configs: setup.configs, registry: setup.registry }), startNodeServer({ runsDir, port: 0, env: { PIE_PUBLIC_READS: 'true' } })]);
}, 300_000);
afterAll(async () => {
  await dev?.close();
  await node?.close();
  removeConfigs();
});

describe('level hosts in isolates of their own (wrangler dev)', () => {
  it('spreads the levels over several hosts, each holding only its own group, and answers as Node does', async () => {
    expect(groups).toBeGreaterThan(2);
    const png = await (await fetch(`${node.url}/v1/runs/${RUN}/images/11/image.png`)).arrayBuffer();
    const post = () => ({ method: 'POST', body: png, headers: { 'content-type': 'image/png' } });
    const seen: LevelHostFigures[][] = [];
    for (let r = 0; r < 3; r++) {
      const [w, n] = await Promise.all([fetch(`${dev.url}/v1/runs/${RUN}/predict`, post()), fetch(`${node.url}/v1/runs/${RUN}/predict`, post())]);
      expect([w.status, n.status]).toEqual([200, 200]);
      seen.push(JSON.parse(w.headers.get('x-pie-level-hosts') ?? '[]'));
      const [a, b] = [await w.json() as Json, await n.json() as Json];
      expect(a.levels.map((l: Json) => l.memberPredictions)).toEqual(b.levels.map((l: Json) => l.memberPredictions));
      expect(a).toEqual(b);
    }
    const first = seen[0];
    expect(first).toHaveLength(groups);
    expect(new Set(first.map((h) => h.isolate)).size).toBe(groups);
    first.forEach((h, g) => {
      const own = manifest.levels.filter((_, t) => groupOf[t] === g).map((l) => l.name);
      expect(h.host).toBe(g ? `PIE_LEVELS_${g + 1}` : 'PIE_LEVELS');
      expect(h.levels).toEqual(own);
      expect(h.loaded).toEqual(own);
      expect(h.heldLevels.sort()).toEqual(own.map((l) => `${RUN}/${l}`).sort());
      expect(h.heldBytes).toBeLessThanOrEqual(budget);
    });
    // Warm: the same hosts (same isolates) answer again without reading a level from R2.
    for (const again of seen.slice(1)) {
      expect(again.map((h) => h.isolate)).toEqual(first.map((h) => h.isolate));
      expect(again.flatMap((h) => h.loaded)).toEqual([]);
    }
  });
});
