/**
 * All-levels live predictions in workerd of a run larger than one predictor budget: in one
 * isolate (no level hosts: levels loaded and evicted in turn, re-read from R2 on every request)
 * against spread over level hosts (one front and one host Worker per group of levels, each an
 * isolate of its own), under `wrangler dev` over a local R2 bucket seeded with the run. Prints the
 * plan, per-invocation memory (what each host's predictor cache holds, its WebAssembly memory,
 * levels it read from R2), the workerd process's resident memory growth and peak, and latency,
 * cold and warm, with the ratio of the two setups measured in this run. Figures only; loopback.
 *
 *   npm run bench:level-hosts -- [--runs-dir runs | --synthetic paper] [--budget-mb 64] [--requests 10]
 *                                [--K 30] [--hidden 300,100] [--images 10000]   (the synthetic run's shape)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs } from '../../node/bench-args.ts';
import { FsStore } from '../../node/store-fs.ts';
import { encodePng } from '../../lib/image/index.ts';
import { inputShapeOf, parseManifest } from '../../lib/manifest.ts';
import { getText, LATEST_KEY } from '../../lib/store.ts';
import { PAPER_SHAPE, writeSyntheticRun } from '../../lib/synthetic.ts';
import { planLevelGroups, type LevelHostFigures } from '../level-hosts.ts';
import { hwmKb, resetHwm, rssKb, startRssSampler } from './rss.ts';
import { levelHostConfigs, startWranglerDev } from './wrangler-dev.ts';

const values = benchArgs('All-levels live predictions in workerd, one isolate vs level hosts: npm run bench:level-hosts -- [options]', {
  'runs-dir': { type: 'string', default: 'runs' },
  synthetic: { type: 'string' },
  'budget-mb': { type: 'string', default: '64' },
  requests: { type: 'string', default: '10' },
  K: { type: 'string', default: String(PAPER_SHAPE.K) },
  hidden: { type: 'string', default: PAPER_SHAPE.hidden.join(',') },
  images: { type: 'string', default: String(PAPER_SHAPE.images) },
});
if (values.synthetic !== undefined && values.synthetic !== 'paper') throw new Error(`--synthetic: expected 'paper', got '${values.synthetic}'`);
const MB = 1024 * 1024;
const budget = Number(values['budget-mb']) * MB;
const requests = Math.max(1, Number(values.requests));
const mb = (bytes: number) => (bytes / MB).toFixed(1);

let runsDir = resolve(values['runs-dir']);
let generated: string | null = null;
if (values.synthetic) {
  runsDir = generated = mkdtempSync(join(tmpdir(), 'pie-bench-paper-'));
  const started = performance.now();
  const shape = { ...PAPER_SHAPE, K: Number(values.K), hidden: values.hidden.split(',').map(Number), images: Number(values.images) };
  await writeSyntheticRun(new FsStore(runsDir), { ...shape, runId: 'synthetic-paper', seed: 1 });
  console.log(`generated a paper-shaped run (random members, K = ${shape.K}, 784-${shape.hidden.join('-')}-10, ${shape.images} images) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const store = new FsStore(runsDir);
const runId = (await getText(store, LATEST_KEY))!.trim();
const manifest = parseManifest((await getText(store, `${runId}/manifest.json`))!);
const levelBytes = manifest.levels.map((l) => l.members.reduce((a, m) => a + manifest.files.find((f) => f.path === m.model)!.bytes, 0));
const plan = planLevelGroups(levelBytes, budget);
console.log(`run ${runId}: ${manifest.levels.length} levels × K = ${manifest.K}, model files ${mb(levelBytes.reduce((a, b) => a + b, 0))} MB; predictor budget ${mb(budget)} MB per isolate`);
if (plan.groupOf.includes(-1)) throw new Error(`levels ${manifest.levels.filter((_, t) => plan.groupOf[t] < 0).map((l) => l.name).join(', ')} are larger than the budget`);
for (let g = 0; g < plan.groups; g++) {
  const ts = levelBytes.map((_, t) => t).filter((t) => plan.groupOf[t] === g);
  console.log(`  group ${g + 1}: ${ts.map((t) => `${manifest.levels[t].name} ${mb(levelBytes[t])}`).join(', ')} MB = ${mb(ts.reduce((a, t) => a + levelBytes[t], 0))} MB`);
}

const [h, w, c] = inputShapeOf(manifest);
const pngs = await Promise.all([0, 1, 2, 3].map(async (i) => {
  const bytes = (await store.getRange(`${runId}/eval/images.bin`, i * h * w * c, h * w * c))!;
  return encodePng(bytes, w, h, 1, c);
}));

interface Measured { coldMs: number; warmMs: number[]; rssGrowKb: number; peakGrowKb: number; hosts: LevelHostFigures[][]; answers: string[] }

async function measure(hosts: number): Promise<Measured> {
  const setup = levelHostConfigs(hosts, { PIE_PUBLIC_READS: 'true', PIE_PREDICTOR_BUDGET_MB: String(budget / MB) });
  const dev = await startWranglerDev(runsDir, {}, setup.configs);
  try {
    const pid = dev.workerdPid;
    const baseKb = rssKb(pid);
    const hwmOk = resetHwm(pid);
    const sampler = await startRssSampler(pid);
    const out: Measured = { coldMs: 0, warmMs: [], rssGrowKb: 0, peakGrowKb: 0, hosts: [], answers: [] };
    for (let r = 0; r <= requests; r++) {
      const t = performance.now();
      const res = await fetch(`${dev.url}/v1/runs/${runId}/predict`, { method: 'POST', body: pngs[r % pngs.length] as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'image/png' } });
      const text = await res.text();
      const ms = performance.now() - t;
      if (res.status !== 200) throw new Error(`predict answered ${res.status}: ${text.slice(0, 300)}`);
      if (r === 0) out.coldMs = ms; else out.warmMs.push(ms);
      out.hosts.push(JSON.parse(res.headers.get('x-pie-level-hosts') ?? '[]'));
      if (r < pngs.length) out.answers.push(text);
    }
    const { peakKb } = await sampler.stop();
    out.rssGrowKb = rssKb(pid) - baseKb;
    out.peakGrowKb = Math.max(peakKb, hwmOk ? hwmKb(pid) : 0) - baseKb;
    return out;
  } finally {
    await dev.close();
    setup.remove();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const one = await measure(0);
const spread = await measure(plan.groups);
console.log(`\nall-levels live predict of one ${h}×${w}×${c} PNG in workerd (wrangler dev), ${requests} warm requests after a cold one, one at a time:`);
for (const [what, m] of [['one isolate, no level hosts', one], [`${plan.groups} level hosts + front`, spread]] as const) {
  console.log(`${what.padEnd(30)} cold ${m.coldMs.toFixed(0).padStart(6)} ms   warm p50 ${median(m.warmMs).toFixed(1).padStart(7)} ms (min ${Math.min(...m.warmMs).toFixed(1)})   ` +
    `workerd resident +${mb(m.rssGrowKb * 1024)} MB after, peak +${mb(m.peakGrowKb * 1024)} MB (all its isolates)`);
}
console.log(`warm latency, level hosts / one isolate: ${(median(spread.warmMs) / median(one.warmMs)).toFixed(3)}`);
console.log(`answers identical in both setups: ${one.answers.every((a, i) => a === spread.answers[i]) ? 'yes' : 'NO'}`);

console.log('\nper invocation (level hosts), after the cold request; levels read from R2 over the warm requests:');
console.log('host           isolate    levels                                    cache holds   budget   wasm memory   re-read warm');
spread.hosts[0].forEach((f, i) => {
  const reread = spread.hosts.slice(1).reduce((a, hs) => a + (hs[i]?.loaded.length ?? 0), 0);
  console.log(`${f.host.padEnd(14)} ${f.isolate.padEnd(10)} ${f.levels.join(',').padEnd(41)} ${mb(f.heldBytes).padStart(8)} MB ${mb(f.budgetBytes).padStart(6)} MB ${mb(f.wasmMemoryBytes).padStart(9)} MB ${String(reread).padStart(8)}`);
});
if (generated) rmSync(generated, { recursive: true, force: true });
