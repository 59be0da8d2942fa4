/**
 * API benchmarks, printed as figures (no thresholds here: the closing note compares them to
 * the targets). Bounded in time; loopback only.
 *
 *   npm run bench:api -- [--runs-dir runs] [--seconds 5] [--connections 8] [--targets node,workerd]
 *                        [--synthetic imagenet|lenet5|quick|paper] [--idx images-idx3-ubyte.gz]
 *
 * --synthetic imagenet first generates an ImageNet-shaped run (lib/synthetic.ts: 50 000
 * images, 1000 classes, K = 30, 10 levels, predictions synthesised) into a temporary runs
 * directory and measures that one. --synthetic lenet5 generates a synthesized lenet5 run instead
 * (random CNN members, no training; K = 8, dense, p50/p90/p99, f16, int8-dyn, int8-full).
 * --synthetic quick|paper generates a LeNet-300-100 run shaped as that preset's levels (random
 * members; api/bench/synth-mlp.ts), on the first 1000 images of --idx when given: the live
 * prediction cost at the paper's population size (K = 30, 11 levels) without training it.
 *
 * 1. Memory of the loaded run's lookup data (what every lookup needs: predictions, labels,
 *    derived per-image arrays, image hashes; images themselves are read by range), against a
 *    Workers isolate's 128 MB; then with every model of every level loaded, next to the
 *    files' sizes.
 * 2. Live prediction cost per level, in process: one image through the K members of a level,
 *    each image through every level in turn (as a live prediction runs, so weights come from
 *    memory, not cache), WebAssembly kernels (what the API runs) against the JS reference kernels;
 *    then through the API's code, next to two references measured in the same process (the
 *    same models with their weights in cache; reading the kernels' memory once), and through the
 *    Node server's prediction threads (one thread, and one per core, over which a prediction's
 *    levels are split), wall time.
 * 2b. Dataset-image lookups: PIE Lens against a bare Hono route returning the same JSON, all
 *    served by one process (api/bench/lookup-server.ts), measured in rounds that alternate between
 *    them: PIE Lens with public reads, with a bearer key, and building every answer (none kept);
 *    the bare route, and one sending the JSON text serialized once.
 * 3. Load on each target (Node: `pie serve`; workerd: `wrangler dev` over a local R2 bucket
 *    seeded with the run, through wrangler's dev proxy and at the Worker's own workerd socket):
 *    dataset-image lookups and live predictions of uploaded PNGs, requests/s and p50/p99
 *    latency, with autocannon as the load generator; then one client's sequential requests,
 *    latency to the hundredth of a millisecond.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs } from '../../node/bench-args.ts';
import autocannon from 'autocannon';
import { FsStore } from '../../node/store-fs.ts';
import { RunRepository } from '../runs.ts';
import { encodePng } from '../../lib/image/index.ts';
import { inputShapeOf } from '../../lib/manifest.ts';
import { startWranglerDev } from './wrangler-dev.ts';
import { PIXEL_SCALE } from '../../lib/model/types.ts';
import { createPredictor, decodeModel, predictEach, type Predictor } from '../../lib/model/index.ts';
import { classBytesFor, newClassArray } from '../../lib/class-array.ts';
import { installNodeKernels } from '../../node/wasm-kernels.ts';
import { buildAnswer, datasetMemberPredictions, liveMemberPredictions } from '../answer.ts';
import { createUploadPool } from '../upload-pool.ts';
import { inCacheUsPerModel, median, memoryReadMs } from '../../node/bench-references.ts';

const runPath = (id: string) => `/v1/runs/${id}`;

const values = benchArgs('API benchmarks (live cost per level, memory, requests/s on Node and workerd): npm run bench:api -- [options]', {
  'runs-dir': { type: 'string', default: 'runs' },
  seconds: { type: 'string', default: '5' },
  connections: { type: 'string', default: '8' },
  targets: { type: 'string', default: 'node,workerd' },
  images: { type: 'string', default: '200' },
  synthetic: { type: 'string' },
  idx: { type: 'string' },
});
const SYNTHETIC = ['imagenet', 'lenet5', 'quick', 'paper'];
if (values.synthetic !== undefined && !SYNTHETIC.includes(values.synthetic)) throw new Error(`--synthetic: expected one of ${SYNTHETIC.join(', ')}, got '${values.synthetic}'`);
const runsDir = values.synthetic ? mkdtempSync(join(tmpdir(), `pie-bench-${values.synthetic}-`)) : resolve(values['runs-dir']!);
const root = join(import.meta.dirname, '..', '..');
if (values.synthetic) {
  // In a child process, so that none of the generator's memory is in the figures below.
  const started = performance.now();
  const kind = values.synthetic;
  const args = kind === 'lenet5' ? ['--import', 'tsx', join(root, 'api/bench/synth-cnn.ts'), runsDir]
    : kind === 'imagenet' ? [join(root, 'bin/pie.js'), 'synthesize', '--runs-dir', runsDir]
    : ['--import', 'tsx', join(root, 'api/bench/synth-mlp.ts'), runsDir, kind, ...(values.idx ? [values.idx] : [])];
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`generating the run failed:\n${r.stderr}`);
  const what = ({ lenet5: 'a synthesized lenet5 run (random CNN members, no training)', imagenet: "an ImageNet-shaped run with 'pie synthesize'" } as Record<string, string>)[kind]
    ?? `a ${kind}-shaped LeNet-300-100 run (random members, no training; ${values.idx ? 'images from --idx' : 'generated images'})`;
  console.log(`generated ${what} in ${((performance.now() - started) / 1000).toFixed(1)} s (${runsDir})`);
}
const seconds = Number(values.seconds);
const connections = Number(values.connections);

// ---- 1 and 2: in-process cost per level and memory --------------------------------------
// The API's kernels (WebAssembly SIMD) and, as the baseline in the same process, the JS
// reference kernels on the same model files.
const kernels = await installNodeKernels();
const gcOnce = (globalThis as { gc?: () => void }).gc;
/** A full collection, then again after a pause: ArrayBuffers are freed by a background sweeper after the first, so memory figures settle. */
const settle = async () => {
  if (!gcOnce) return;
  gcOnce();
  await new Promise((resolve) => setTimeout(resolve, 100));
  gcOnce();
};
const gc = gcOnce && settle;
await settle();
const before = process.memoryUsage();
const wasmBefore = kernels.bytesInUse;
const repo = new RunRepository(new FsStore(runsDir));
const loadStarted = performance.now();
const run = await repo.get('latest');
const loadMs = performance.now() - loadStarted;
await settle();
const lookup = process.memoryUsage();
const lookupMb = (lookup.heapUsed + lookup.arrayBuffers - before.heapUsed - before.arrayBuffers) / 1024 / 1024;
const WORKERS_MB = 128;
console.log(`run ${run.runId}: ${run.levels} levels × K = ${run.K}, ${run.N} evaluation images, ${run.numClasses} classes ` +
  `(${run.numClasses > 256 ? 2 : 1}-byte class indices), images of ${run.imageBytes} bytes`);
console.log(`lookup data of the loaded run: +${lookupMb.toFixed(1)} MB heap + array buffers ` +
  `(${(lookupMb / WORKERS_MB * 100).toFixed(0)} % of a ${WORKERS_MB} MB Workers isolate; typed arrays ${mb(run.loadedBytes())} MB; loaded in ${loadMs.toFixed(0)} ms)` +
  `${gc ? '' : ' — run with --expose-gc for a settled figure'}`);
const allLevels = run.manifest.levels.map((_, t) => t);
const predictorsByLevel = await Promise.all(allLevels.map((t) => run.withPredictors(t, (ps) => ps)));
await settle();
const after = process.memoryUsage();
const modelBytes = run.manifest.files.filter((f) => f.kind === 'model').reduce((a, f) => a + f.bytes, 0);
const loadedWeights = kernels.bytesInUse - wasmBefore;
const heapDelta = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
console.log(`memory of the loaded run (all ${run.levels * run.K} models): weights ${mb(loadedWeights)} MB in the kernels' memory ` +
  `+ ${mb(heapDelta)} MB JS heap and buffers (run data ${mb(run.loadedBytes())} MB) = ${mb(loadedWeights + heapDelta)} MB; ` +
  `files: models ${mb(modelBytes)} MB + run data ${mb(run.loadedBytes())} MB = ${mb(modelBytes + run.loadedBytes())} MB; ` +
  `loaded / files = ${((loadedWeights + heapDelta) / (modelBytes + run.loadedBytes())).toFixed(2)}${gc ? '' : ' — run with --expose-gc for a settled figure'}`);

const nImages = Math.min(Number(values.images), run.N);
const [h, w, c] = inputShapeOf(run.manifest);
const images = await Promise.all(Array.from({ length: Math.max(nImages, 16) }, (_, i) => run.image(i % run.N)));
const inputs = images.slice(0, nImages).map((img) => Float32Array.from(img, (v) => v * PIXEL_SCALE));
const jsByLevel = await Promise.all(run.manifest.levels.map((level) => Promise.all(level.members.map(async (m) =>
  createPredictor(decodeModel((await new FsStore(runsDir).get(`${run.runId}/${m.model}`))!), { kernels: 'js' })))));
/**
 * ms of CPU per image of each level, measured as a live prediction runs: each image goes through
 * every level in turn (so each level's weights are out of cache, evicted by the others'), the
 * level's K members on one image together (predictEach). A whole unmeasured pass first: the
 * kernels are compiled in tiers as they run, and a few images measured 1.5–2× the settled cost.
 * Then `rounds` passes; each level's median over them, and the passes' totals.
 */
const cycleMs = (byLevel: Predictor[][], rounds: number) => {
  const out = newClassArray(run.levels * run.K, classBytesFor(run.numClasses));
  for (const x of inputs) byLevel.forEach((ps, t) => predictEach(ps, x, out, t * run.K));
  const perRound = Array.from({ length: rounds }, () => {
    const us = byLevel.map(() => 0);
    for (const x of inputs) {
      byLevel.forEach((ps, t) => {
        const c0 = process.cpuUsage();
        predictEach(ps, x, out, t * run.K);
        const c = process.cpuUsage(c0);
        us[t] += c.user + c.system;
      });
    }
    return us.map((u) => u / 1000 / nImages);
  });
  return { levels: byLevel.map((_, t) => median(perRound.map((r) => r[t]))), totals: perRound.map((r) => r.reduce((a, b) => a + b, 0)) };
};
const ROUNDS = 3;
console.log(`\nlive prediction cost per level (one image through the level's K members, each image through every level in turn as a live prediction does; in process, ms of CPU per image; ${nImages} images, after a pass unmeasured; wasm: median of ${ROUNDS} passes)`);
console.log('level       kind        sparsity   JS kernels   wasm kernels   JS / wasm   µs / model (wasm)');
const wasm = cycleMs(predictorsByLevel, ROUNDS);
const js = cycleMs(jsByLevel, 1);
run.manifest.levels.forEach((level, t) => {
  const jsT = js.levels[t], wasmT = wasm.levels[t];
  console.log(`${level.name.padEnd(10)}  ${level.format.padEnd(12)} ${(level.sparsity * 100).toFixed(0).padStart(6)} %  ${jsT.toFixed(3).padStart(10)}  ${wasmT.toFixed(3).padStart(13)}  ${(jsT / wasmT).toFixed(1).padStart(9)}×  ${((wasmT * 1000) / run.K).toFixed(1).padStart(17)}`);
});
const totalJs = js.totals[0], totalWasm = median(wasm.totals);
console.log(`all levels (${run.levels * run.K} models): JS ${totalJs.toFixed(2)} ms, wasm ${totalWasm.toFixed(2)} ms per image (${(totalJs / totalWasm).toFixed(1)}×; wasm passes ${wasm.totals.map((v) => v.toFixed(2)).join(', ')})`);
{
  // The API's own path: liveMemberPredictions over every level, cached predictors (warm from the passes above); median of ROUNDS passes.
  const passes = Array.from({ length: ROUNDS }, () => ({ cpu: 0, wall: 0 }));
  for (const pass of passes) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const x of inputs) await liveMemberPredictions(run, x);
    const c = process.cpuUsage(c0);
    pass.cpu = (c.user + c.system) / 1000 / nImages;
    pass.wall = (performance.now() - t0) / nImages;
  }
  const live = median(passes.map((p) => p.wall));
  console.log(`live predict through the API's code (liveMemberPredictions, all levels): ${median(passes.map((p) => p.cpu)).toFixed(2)} ms CPU, ` +
    `${live.toFixed(2)} ms wall per image (median of ${ROUNDS} passes; CPU ${passes.map((p) => p.cpu.toFixed(2)).join(', ')})`);
  // The references, measured now in this process and, like the wall time, by the clock (node/bench-references.ts).
  const perModel = inCacheUsPerModel(predictorsByLevel, inputs.slice(0, 20), run.numClasses);
  const inCache = perModel.reduce((a, us) => a + (us * run.K) / 1000, 0);
  const read = await memoryReadMs(kernels);
  console.log(`references: in cache (each level's first member repeated on the same image, K × per level) ${inCache.toFixed(2)} ms ` +
    `(µs per model: ${run.manifest.levels.map((l, t) => `${l.name} ${perModel[t].toFixed(1)}`).join(', ')}); ` +
    `reading the kernels' memory once (${mb(read.bytes)} MB, one thread, SIMD) ${read.ms.toFixed(2)} ms = ${(read.bytes / read.ms / 1e6).toFixed(1)} GB/s`);
  console.log(`live predict (wall) / in cache = ${(live / inCache).toFixed(2)}×; / memory read = ${(live / read.ms).toFixed(2)}×`);
}

{
  // The Node server's path: the prediction threads (api/upload-pool.ts), one thread against one
  // per core (a prediction's levels split over the idle threads), in alternating rounds; wall time.
  const cores = availableParallelism();
  const counts = cores > 1 ? [1, cores] : [1];
  const pools = counts.map((threads) => createUploadPool({ threads }));
  try {
    for (const pool of pools) for (const x of inputs.slice(0, 10)) await pool.predict(run, x); // load the levels in every thread
    const walls = counts.map(() => [] as number[]);
    for (let r = 0; r < 4; r++) {
      for (let j = 0; j < pools.length; j++) {
        const p = (j + r) % pools.length;
        for (const x of inputs) {
          const t0 = performance.now();
          await pools[p].predict(run, x);
          walls[p].push(performance.now() - t0);
        }
      }
    }
    console.log(`live predict through the Node prediction threads (all levels, wall per image, ${4 * nImages} images each, alternating rounds): ` +
      counts.map((threads, p) => `${threads} thread${threads > 1 ? 's' : ''} p50 ${median(walls[p]).toFixed(2)} ms`).join(', ') +
      (counts.length > 1 ? ` (${(median(walls[0]) / median(walls[1])).toFixed(2)}×)` : ''));
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }
}

{
  // A dataset-image answer in process: member predictions → answer → JSON, all levels; its size
  // grows with the class count only through what the answer carries per level.
  const n = Math.min(run.N, 500);
  const answer = (i: number) => JSON.stringify(buildAnswer(run, datasetMemberPredictions(run, i), run.labels[i], { source: 'dataset', index: i, png: '' }));
  for (let i = 0; i < 50; i++) answer(i);
  let bytes = 0;
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) bytes += answer((i * 7919) % run.N).length;
  const c = process.cpuUsage(c0);
  console.log(`dataset-image answer in process (build + JSON, all ${run.levels} levels, ${n} images): ${((c.user + c.system) / n).toFixed(0)} µs CPU and ${(bytes / n / 1024).toFixed(1)} KiB of JSON per image`);
}

// ---- lookups: PIE Lens vs a bare Hono route with the same JSON, one server, interleaved ----
{
  const lookupImages = Math.min(run.N, 500);
  const key = 'bench-lookup-key';
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'api/bench/lookup-server.ts'), runsDir, run.runId, String(lookupImages), key], { cwd: root });
  try {
    const listening = await waitForUrl(child, /^(listening [\s\S]*)^ready$/m, 'lookup server');
    const url = (name: string) => new RegExp(`listening ${name} at (\\S+)`).exec(listening)![1];
    const image = (k: number) => (k * 7919) % lookupImages;
    const variants = {
      pie: { url: url('public'), path: (k: number) => `${runPath(run.runId)}/images/${image(k)}`, headers: {} },
      'pie-key': { url: url('key'), path: (k: number) => `${runPath(run.runId)}/images/${image(k)}`, headers: { authorization: `Bearer ${key}` } },
      'pie-uncached': { url: url('uncached'), path: (k: number) => `${runPath(run.runId)}/images/${image(k)}`, headers: {} },
      bare: { url: url('public'), path: (k: number) => `/bare/images/${image(k)}`, headers: {} },
      'bare-text': { url: url('public'), path: (k: number) => `/bare-text/images/${image(k)}`, headers: {} },
    };
    type Variant = keyof typeof variants;
    const names = Object.keys(variants) as Variant[];
    const serverCpu = async () => { const u = await (await fetch(`${url('control')}/cpu`)).json() as NodeJS.CpuUsage; return u.user + u.system; };
    /**
     * Requests per second of one variant over `duration` s (total ÷ elapsed: autocannon's average
     * per second means little below a second), and the server's CPU time per request.
     */
    const measure = async (name: Variant, duration: number) => {
      const v = variants[name];
      let k = 0;
      const cpu0 = await serverCpu();
      const res = await autocannon({ url: v.url, connections, duration, headers: v.headers, requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: v.path(k++) }) }] });
      const cpu = await serverCpu() - cpu0;
      if (res.non2xx + res.errors) throw new Error(`${name} lookups failed: ${res.non2xx} non-2xx, ${res.errors} errors`);
      return { rate: res.requests.total / res.duration, cpuPerRequest: cpu / res.requests.total };
    };
    // Unmeasured, so that no variant's first round pays for JIT compilation (or for building the
    // answers PIE Lens keeps): a second each. Half a second left CI's two short rounds still warming up.
    for (const name of names) await measure(name, 1);
    const rounds = Math.max(2, Math.round(seconds * 2));
    const per = Math.max(0.5, seconds / 4);
    const rates = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<Variant, number[]>;
    const cpus = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<Variant, number[]>;
    for (let r = 0; r < rounds; r++) {
      // Each round in another order, so no variant always follows the same one.
      for (let j = 0; j < names.length; j++) {
        const name = names[(j + r) % names.length];
        const m = await measure(name, per);
        rates[name].push(m.rate);
        cpus[name].push(m.cpuPerRequest);
      }
    }
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    const ratio = (a: Variant, b: Variant) => {
      const each = rates[a].map((x, r) => x / rates[b][r]);
      return `${(sum(rates[a]) / sum(rates[b])).toFixed(2)} (median of rounds ${median(each).toFixed(2)}, ${Math.min(...each).toFixed(2)}–${Math.max(...each).toFixed(2)})`;
    };
    console.log(`\ndataset-image lookups, one Node server process, ${rounds} rounds of ${per} s per variant (order rotated each round), ${connections} connections, ${lookupImages} images:`);
    for (const name of names) console.log(`  ${name.padEnd(13)} ${Math.round(sum(rates[name]) / rounds).toString().padStart(6)} req/s   ${median(cpus[name]).toFixed(0).padStart(4)} µs of server CPU per request (median of rounds)`);
    console.log(`PIE Lens (public reads) / bare Hono route with the same JSON:  ${ratio('pie', 'bare')}`);
    console.log(`PIE Lens (bearer key) / bare route:                           ${ratio('pie-key', 'bare')}`);
    console.log(`PIE Lens building every answer (none kept) / bare route:     ${ratio('pie-uncached', 'bare')}`);
    console.log(`PIE Lens (public reads) / bare route sending the JSON text:   ${ratio('pie', 'bare-text')}`);
    const cpuRatio = (a: Variant) => (median(cpus.bare) / median(cpus[a])).toFixed(2);
    console.log(`by server CPU per request (bare ÷ PIE Lens, medians): public reads ${cpuRatio('pie')}, bearer key ${cpuRatio('pie-key')}, building every answer ${cpuRatio('pie-uncached')}; ` +
      `bare route sending the text ÷ PIE Lens (public) ${(median(cpus['bare-text']) / median(cpus.pie)).toFixed(2)}`);
  } finally {
    child.kill('SIGTERM');
  }
}

// ---- 3: load on each target -----------------------------------------------------------------
const pngs = images.slice(0, 16).map((img) => encodePng(img, w, h, 1, c));

async function load(url: string, label: string) {
  let n = 0;
  const lookup = await autocannon({
    url, connections, duration: seconds,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `${runPath(run.runId)}/images/${(n++ * 7919) % run.N}` }) }],
  });
  const predict = async (conns: number) => {
    let m = 0;
    return autocannon({
      url, connections: conns, duration: seconds,
      requests: [{
        method: 'POST', path: `${runPath(run.runId)}/predict`, headers: { 'content-type': 'image/png' },
        setupRequest: (req) => ({ ...req, body: Buffer.from(pngs[m++ % pngs.length]) }),
      }],
    });
  };
  const one = await predict(1);
  const many = await predict(connections);
  for (const [what, r] of [['dataset-image lookup', lookup], ['live prediction, 1 connection', one], [`live prediction, ${connections} connections`, many]] as const) {
    const bad = r.non2xx + r.errors + r.timeouts;
    console.log(`${label.padEnd(8)} ${what.padEnd(32)} ${Math.round(r.requests.average).toString().padStart(7)} req/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(4)} ms   (${r.requests.total} requests${bad ? `, ${bad} failed` : ''})`);
  }
}

/** One HTTP request on `agent`'s kept-alive connection: the status, once the whole body is in. */
function request(agent: Agent, url: string, path: string, body?: Uint8Array): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(url + path, {
      agent, method: body ? 'POST' : 'GET', headers: body ? { 'content-type': 'image/png', 'content-length': body.length } : {},
    }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolvePromise(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Latency of one client sending one request after another (node:http, one kept-alive
 * connection; fetch itself costs ~0.7 ms a request here), to the hundredth of a millisecond
 * (autocannon's percentiles are whole milliseconds): /health (what the client, the loopback and
 * the routing cost), a dataset-image lookup, and live predictions of uploaded PNGs with the dense
 * level only and with every level.
 */
async function sequential(url: string, label: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const requests: [string, (i: number) => [string, Uint8Array?]][] = [
    ['/health', () => ['/health']],
    ['dataset-image lookup', (i) => [`${runPath(run.runId)}/images/${(i * 7919) % run.N}`]],
    ['live prediction, dense level', (i) => [`${runPath(run.runId)}/predict?levels=${run.manifest.levels[0].name}`, pngs[i % pngs.length]]],
    ['live prediction, all levels', (i) => [`${runPath(run.runId)}/predict`, pngs[i % pngs.length]]],
  ];
  const duration = Math.max(0.5, seconds / 2) * 1000;
  try {
    for (const [what, make] of requests) {
      const times: number[] = [];
      // Unmeasured first: the first requests pay for compiling and for reading models.
      for (let i = 0; i < 20; i++) await request(agent, url, ...make(i));
      const until = performance.now() + duration;
      for (let i = 0; performance.now() < until || times.length < 20; i++) {
        const t0 = performance.now();
        const status = await request(agent, url, ...make(i));
        times.push(performance.now() - t0);
        if (status !== 200) throw new Error(`${label} ${what}: HTTP ${status}`);
      }
      times.sort((a, b) => a - b);
      const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(2);
      console.log(`${label.padEnd(8)} ${what.padEnd(32)} one client, sequential: p50 ${at(0.5).padStart(6)} ms   p90 ${at(0.9).padStart(6)} ms   p99 ${at(0.99).padStart(6)} ms   (${times.length} requests)`);
    }
  } finally {
    agent.destroy();
  }
}

function waitForUrl(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start in 90 s:\n${seen}`)), 90_000);
    const onData = (d: Buffer) => {
      seen += d.toString();
      const m = pattern.exec(seen);
      if (m) { clearTimeout(timer); resolvePromise(m[1]); }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited (${code}):\n${seen}`)); });
  });
}

console.log(`\nload: ${seconds} s per test, loopback, autocannon in this process`);
const children: ChildProcess[] = [];
const closers: (() => Promise<void>)[] = [];
try {
  for (const target of values.targets!.split(',').filter((t) => t && t !== 'none')) {
    if (target === 'node') {
      const serve = async (env: Record<string, string>) => {
        const child = spawn(process.execPath, [join(root, 'bin/pie.js'), 'serve', '--runs-dir', runsDir, '--port', '0'], { cwd: root, env: { ...process.env, PIE_PUBLIC_READS: 'true', ...env } });
        children.push(child);
        const url = await waitForUrl(child, /serving .* at (http:\/\/[^\s]+)/, 'pie serve');
        await fetch(`${url}${runPath(run.runId)}/predict`, { method: 'POST', body: Buffer.from(pngs[0]), headers: { 'content-type': 'image/png' } }); // load models
        return { url, stop: () => { child.kill('SIGTERM'); } };
      };
      const node = await serve({});
      await load(node.url, 'node');
      await sequential(node.url, 'node');
      node.stop();
      // The default leaves a core to the event loop (cores − 1 prediction threads); with one
      // thread per core, an idle server spreads a prediction's levels over all of them.
      const cores = availableParallelism();
      if (cores >= 2) {
        console.log(`node×${cores}: pie serve with PIE_UPLOAD_THREADS=${cores} (a prediction's levels spread over the idle threads)`);
        const all = await serve({ PIE_UPLOAD_THREADS: String(cores) });
        await sequential(all.url, `node×${cores}`);
        all.stop();
      }
    } else if (target === 'workerd') {
      const dev = await startWranglerDev(runsDir, { PIE_PUBLIC_READS: 'true' });
      closers.push(dev.close);
      await fetch(`${dev.url}${runPath(run.runId)}/predict`, { method: 'POST', body: Buffer.from(pngs[0]), headers: { 'content-type': 'image/png' } });
      // Through wrangler's dev proxy (a second workerd in front), then at the Worker's own socket.
      const direct = await dev.directUrl();
      console.log(`workerd: through wrangler's dev proxy (${dev.url}), then "workerd*" at the Worker's own socket (${direct}), as on Cloudflare, without a dev proxy`);
      await load(dev.url, 'workerd');
      await sequential(dev.url, 'workerd');
      await load(direct, 'workerd*');
      await sequential(direct, 'workerd*');
    } else {
      throw new Error(`unknown target '${target}' (node, workerd)`);
    }
  }
} finally {
  for (const c of children) c.kill('SIGTERM');
  for (const close of closers) await close();
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
