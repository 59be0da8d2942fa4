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
 *                                [--layouts one,apart] [--K 30] [--hidden 300,100] [--images 10000]
 *
 * --layouts: `one` (a front alone), `self` (a front bound to itself, as wrangler.toml ships),
 * `together` (front and hosts in one workerd: cheaper to start),
 * `apart` (each in a workerd of its own: each process's growth is one isolate's). --K, --hidden
 * and --images shape the --synthetic run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs } from '../../node/bench-args.ts';
import { median } from '../../node/bench-references.ts';
import { FsStore } from '../../node/store-fs.ts';
import { encodePng } from '../../lib/image/index.ts';
import { inputShapeOf, parseManifest } from '../../lib/manifest.ts';
import { getText, LATEST_KEY } from '../../lib/store.ts';
import { PAPER_SHAPE, writeSyntheticRun } from '../../lib/synthetic.ts';
import { planLevelGroups, type LevelHostFigures } from '../level-hosts.ts';
import { inspectIsolate, inspectorPort, type HeapUsage } from './isolate-heap.ts';
import { hwmKb, resetHwm, rssKb, startRssSampler } from './rss.ts';
import { seedLocalR2 } from '../dev/seed-local-r2.ts';
import { levelHostConfigs, startWranglerDev, type WranglerDev } from './wrangler-dev.ts';

const values = benchArgs('All-levels live predictions in workerd, one isolate vs level hosts: npm run bench:level-hosts -- [options]', {
  'runs-dir': { type: 'string', default: 'runs' },
  synthetic: { type: 'string' },
  'budget-mb': { type: 'string', default: '64' },
  requests: { type: 'string', default: '10' },
  K: { type: 'string', default: String(PAPER_SHAPE.K) },
  hidden: { type: 'string', default: PAPER_SHAPE.hidden.join(',') },
  images: { type: 'string', default: String(PAPER_SHAPE.images) },
  layouts: { type: 'string', default: 'one,apart' },
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

type Layout = 'one' | 'self' | 'together' | 'apart';
const LAYOUTS: Record<Layout, string> = {
  one: 'one isolate, no level hosts',
  self: 'one isolate, hosts = itself',
  together: `front + ${plan.groups} hosts, one workerd`,
  apart: `front + ${plan.groups} hosts, own workerds`,
};
const layouts = values.layouts.split(',').map((l) => {
  if (!(l in LAYOUTS)) throw new Error(`--layouts: expected one, self, together or apart, got '${l}'`);
  return l as Layout;
});

/**
 * One Worker's isolate (bytes): V8 heap and ArrayBuffers from its inspector, idle before the
 * requests, the largest seen while they ran, after them; and its WebAssembly memory, which the
 * inspector does not count, as its level-host invocations reported it (null: it made none).
 */
interface IsolateMemory { worker: string; idle: number; peak: number; after: number; heapAfter: HeapUsage; wasm: number | null }

interface Measured {
  coldMs: number;
  warmMs: number[];
  /** Per workerd process (front first): resident growth after the requests and at peak, KB. */
  processes: { growKb: number; peakKb: number }[];
  isolates: IsolateMemory[];
  hosts: LevelHostFigures[][];
  answers: string[];
}

/** The V8 heap and the ArrayBuffers' contents (not WebAssembly memories: the inspector leaves those out). */
const isolateBytes = (h: HeapUsage) => h.totalSize + h.backingStorageSize;

/**
 * `one`: the front alone (every level in its isolate, evicted in turn). `together`: front and
 * hosts as Workers of one workerd. `apart`: each in a wrangler dev of its own, reaching each
 * other through a private dev registry, so each workerd's growth is one isolate's.
 */
async function measure(layout: Layout): Promise<Measured> {
  const setup = levelHostConfigs(layout === 'one' ? 0 : layout === 'self' ? 'self' : plan.groups, { PIE_PUBLIC_READS: 'true', PIE_PREDICTOR_BUDGET_MB: String(budget / MB) });
  const persistTo = mkdtempSync(join(tmpdir(), 'pie-wrangler-'));
  const devs: WranglerDev[] = [];
  try {
    await seedLocalR2(runsDir, persistTo, 'pie-lens-runs');
    if (layout === 'apart') {
      // Hosts first, so the front finds them in the registry; one at a time (bundling them at once can exhaust a small machine).
      for (const c of setup.configs.slice(1)) devs.push(await startWranglerDev(runsDir, {}, { configs: [c], persistTo, registry: setup.registry }));
      devs.unshift(await startWranglerDev(runsDir, {}, { configs: setup.configs.slice(0, 1), persistTo, registry: setup.registry }));
    } else {
      devs.push(await startWranglerDev(runsDir, {}, { configs: setup.configs, persistTo, registry: setup.registry }));
    }
    const pids = devs.map((d) => d.workerdPid);
    // Each Worker's isolate, through the inspector of the workerd it runs in.
    const ports = await Promise.all(pids.map((pid) => inspectorPort(pid)));
    const workers = setup.names.map((worker, i) => ({ worker, port: ports[layout === 'apart' ? i : 0] }));
    const inspectors = await Promise.all(workers.map((w) => inspectIsolate(w.port, w.worker)));
    const idle = await Promise.all(inspectors.map((ins) => ins.heap()));
    const peak = idle.map(isolateBytes);
    let polling = true;
    // Between the isolates' turns on their threads (awaits on R2, on a host), so the transient of a level's files being read shows.
    const pollers = inspectors.map(async (ins, i) => {
      while (polling) {
        peak[i] = Math.max(peak[i], isolateBytes(await ins.heap()));
        await new Promise((r) => setTimeout(r, 10));
      }
    });
    const base = pids.map((pid) => rssKb(pid));
    const hwm = pids.map((pid) => resetHwm(pid));
    const samplers = await Promise.all(pids.map((pid) => startRssSampler(pid)));
    const out: Measured = { coldMs: 0, warmMs: [], processes: [], isolates: [], hosts: [], answers: [] };
    for (let r = 0; r <= requests; r++) {
      const t = performance.now();
      const res = await fetch(`${devs[0].url}/v1/runs/${runId}/predict`, { method: 'POST', body: pngs[r % pngs.length] as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'image/png' } });
      const text = await res.text();
      const ms = performance.now() - t;
      if (res.status !== 200) throw new Error(`predict answered ${res.status}: ${text.slice(0, 300)}`);
      if (r === 0) out.coldMs = ms; else out.warmMs.push(ms);
      out.hosts.push(JSON.parse(res.headers.get('x-pie-level-hosts') ?? '[]'));
      if (r < pngs.length) out.answers.push(text);
    }
    for (const [i, pid] of pids.entries()) {
      const { peakKb } = await samplers[i].stop();
      out.processes.push({ growKb: rssKb(pid) - base[i], peakKb: Math.max(peakKb, hwm[i] ? hwmKb(pid) : 0) - base[i] });
    }
    polling = false;
    await Promise.all(pollers);
    for (const [i, ins] of inspectors.entries()) {
      const after = await ins.heap();
      // Host invocation j ran in pie-lens-levels-(j+1), or with `self` in the front itself.
      const wasm = out.hosts.flat().filter((f) => (layout === 'self' ? i === 0 : f.host === (i === 1 ? 'PIE_LEVELS' : `PIE_LEVELS_${i}`))).map((f) => f.wasmMemoryBytes);
      out.isolates.push({
        worker: workers[i].worker, idle: isolateBytes(idle[i]), peak: Math.max(peak[i], isolateBytes(after)), after: isolateBytes(after), heapAfter: after,
        wasm: wasm.length ? Math.max(...wasm) : null,
      });
      ins.close();
    }
    return out;
  } finally {
    for (const d of devs) await d.close();
    rmSync(persistTo, { recursive: true, force: true });
    setup.remove();
  }
}

const results = new Map<Layout, Measured>();
for (const layout of layouts) results.set(layout, await measure(layout));
console.log(`\nall-levels live predict of a ${h}×${w}×${c} PNG in workerd (wrangler dev), ${requests} warm requests after a cold one, one at a time:`);
for (const [layout, m] of results) {
  const grow = m.processes.map((p) => `+${mb(p.growKb * 1024)}`).join(' / ');
  const peak = m.processes.map((p) => `+${mb(p.peakKb * 1024)}`).join(' / ');
  console.log(`${LAYOUTS[layout].padEnd(32)} cold ${m.coldMs.toFixed(0).padStart(6)} ms   warm p50 ${median(m.warmMs).toFixed(1).padStart(7)} ms (min ${Math.min(...m.warmMs).toFixed(1)})   ` +
    `workerd resident ${grow} MB after, peak ${peak} MB${m.processes.length > 1 ? ' (front, then hosts)' : ''}`);
}
console.log('\neach Worker\'s isolate: V8 heap + ArrayBuffer contents from workerd\'s inspector (uncollected garbage counts), + its WebAssembly memory');
console.log('(as its host invocations reported it; the largest, as it never shrinks); peak: the largest heap seen + that memory:');
console.log('setup                            isolate             heap idle   heap peak   heap after (V8 / buffers)   wasm memory   peak total   after total');
for (const [layout, m] of results) {
  for (const iso of m.isolates) {
    const wasm = iso.wasm === null ? '     n/a' : `${mb(iso.wasm).padStart(8)} MB`;
    const total = (x: number) => (iso.wasm === null ? `${mb(x).padStart(7)} MB + wasm` : `${mb(x + iso.wasm).padStart(7)} MB`);
    console.log(`${LAYOUTS[layout].padEnd(32)} ${iso.worker.padEnd(18)} ${mb(iso.idle).padStart(7)} MB ${mb(iso.peak).padStart(8)} MB ${mb(iso.after).padStart(9)} MB (${mb(iso.heapAfter.totalSize)} / ${mb(iso.heapAfter.backingStorageSize)})   ` +
      `${wasm}   ${total(iso.peak)}   ${total(iso.after)}`);
  }
}

const baseline = results.get('one');
for (const [layout, m] of results) {
  if (!baseline || layout === 'one') continue;
  console.log(`warm latency, ${LAYOUTS[layout]} / one isolate: ${(median(m.warmMs) / median(baseline.warmMs)).toFixed(3)}; ` +
    `answers identical: ${baseline.answers.every((a, i) => a === m.answers[i]) ? 'yes' : 'NO'}`);
}

for (const [layout, m] of results) {
  if (layout === 'one') continue;
  console.log(`\nper invocation (${LAYOUTS[layout]}), after the cold request; levels read from R2 again over the warm requests${layout === 'apart' ? "; the host's workerd" : ''}:`);
  console.log(`host           isolate    levels                                    cache holds   budget   wasm memory   re-read${layout === 'apart' ? '   workerd after / peak' : ''}`);
  m.hosts[0].forEach((f, i) => {
    const reread = m.hosts.slice(1).reduce((a, hs) => a + (hs[i]?.loaded.length ?? 0), 0);
    const proc = layout === 'apart' ? `   +${mb(m.processes[i + 1].growKb * 1024)} / +${mb(m.processes[i + 1].peakKb * 1024)} MB` : '';
    console.log(`${f.host.padEnd(14)} ${f.isolate.padEnd(10)} ${f.levels.join(',').padEnd(41)} ${mb(f.heldBytes).padStart(8)} MB ${mb(f.budgetBytes).padStart(6)} MB ${mb(f.wasmMemoryBytes).padStart(9)} MB ${String(reread).padStart(7)}${proc}`);
  });
}
if (generated) rmSync(generated, { recursive: true, force: true });
