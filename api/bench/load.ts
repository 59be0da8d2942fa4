/**
 * API benchmarks, printed as figures (no thresholds here: the closing note compares them to
 * the targets). Bounded in time; loopback only.
 *
 *   npm run bench:api -- [--runs-dir runs] [--seconds 5] [--connections 8] [--targets node,workerd]
 *
 * 1. Live prediction cost per level, in process: one image through the K members of a level.
 * 2. Memory of the loaded run: every model of every level decoded and cached.
 * 3. Load on each target (Node: `pie serve`; workerd: `wrangler dev` over a local R2 bucket
 *    seeded with the run): dataset-image lookups and live predictions of uploaded PNGs,
 *    requests/s and p50/p99 latency, with autocannon as the load generator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs } from '../../node/bench-args.ts';
import autocannon from 'autocannon';
import { FsStore } from '../../node/store-fs.ts';
import { RunRepository } from '../runs.ts';
import { encodePng } from '../image/index.ts';
import { seedLocalR2 } from '../dev/seed-local-r2.ts';
import { PIXEL_SCALE } from '../../lib/model/types.ts';

const values = benchArgs('API benchmarks (live cost per level, memory, requests/s on Node and workerd): npm run bench:api -- [options]', {
  'runs-dir': { type: 'string', default: 'runs' },
  seconds: { type: 'string', default: '5' },
  connections: { type: 'string', default: '8' },
  targets: { type: 'string', default: 'node,workerd' },
  images: { type: 'string', default: '200' },
});
const runsDir = resolve(values['runs-dir']!);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const root = join(import.meta.dirname, '..', '..');

// ---- 1 and 2: in-process cost per level and memory --------------------------------------
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const before = process.memoryUsage();
const repo = new RunRepository(new FsStore(runsDir));
const run = await repo.get('latest');
const predictorsByLevel = await Promise.all(run.manifest.levels.map((l) => run.predictorsFor(l)));
gc?.();
const after = process.memoryUsage();
const modelBytes = run.manifest.files.filter((f) => f.kind === 'model').reduce((a, f) => a + f.bytes, 0);
console.log(`run ${run.runId}: ${run.levels} levels × K = ${run.K}, ${run.N} evaluation images`);
console.log(`memory of the loaded run (all ${run.levels * run.K} models decoded and cached): ` +
  `+${mb(after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers)} MB heap + array buffers ` +
  `(model files ${mb(modelBytes)} MB, run data ${mb(run.loadedBytes())} MB)${gc ? '' : ' — run with --expose-gc for a settled figure'}`);

const nImages = Math.min(Number(values.images), run.N);
const [h, w] = run.manifest.dataset.imageShape;
const inputs = Array.from({ length: nImages }, (_, i) => Float32Array.from(run.images.subarray(i * w * h, (i + 1) * w * h), (v) => v * PIXEL_SCALE));
const logits = new Float32Array(run.numClasses);
console.log('\nlive prediction cost per level (one image through the level\'s K members, in process)');
console.log('level       kind        sparsity   ms / image   µs / model');
let totalMs = 0;
run.manifest.levels.forEach((level, t) => {
  const predictors = predictorsByLevel[t];
  for (const x of inputs.slice(0, 20)) for (const p of predictors) p.logits(x, logits); // warm-up
  const started = performance.now();
  for (const x of inputs) for (const p of predictors) p.logits(x, logits);
  const ms = (performance.now() - started) / nImages;
  totalMs += ms;
  console.log(`${level.name.padEnd(10)}  ${level.format.padEnd(12)} ${(level.sparsity * 100).toFixed(0).padStart(6)} %  ${ms.toFixed(3).padStart(10)}  ${((ms * 1000) / run.K).toFixed(1).padStart(11)}`);
});
console.log(`all levels: ${totalMs.toFixed(2)} ms per image`);

// ---- 3: load on each target -----------------------------------------------------------------
const pngs = Array.from({ length: 16 }, (_, i) => encodePng(run.images.subarray(i * w * h, (i + 1) * w * h), w, h));
const runPath = `/v1/runs/${run.runId}`;

async function load(url: string, label: string) {
  let n = 0;
  const lookup = await autocannon({
    url, connections, duration: seconds,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `${runPath}/images/${(n++ * 7919) % run.N}` }) }],
  });
  const predict = async (conns: number) => {
    let m = 0;
    return autocannon({
      url, connections: conns, duration: seconds,
      requests: [{
        method: 'POST', path: `${runPath}/predict`, headers: { 'content-type': 'image/png' },
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
try {
  for (const target of values.targets!.split(',')) {
    if (target === 'node') {
      const child = spawn(process.execPath, [join(root, 'bin/pie.js'), 'serve', '--runs-dir', runsDir, '--port', '0'], { cwd: root, env: { ...process.env, PIE_PUBLIC_READS: 'true' } });
      children.push(child);
      const url = await waitForUrl(child, /serving .* at (http:\/\/[^\s]+)/, 'pie serve');
      await fetch(`${url}${runPath}/predict`, { method: 'POST', body: Buffer.from(pngs[0]), headers: { 'content-type': 'image/png' } }); // load models
      await load(url, 'node');
    } else if (target === 'workerd') {
      const persist = mkdtempSync(join(tmpdir(), 'pie-bench-r2-'));
      await seedLocalR2(runsDir, persist, 'pie-lens-runs');
      const port = 8800 + Math.floor(Math.random() * 1000);
      const child = spawn(process.execPath, [join(root, 'node_modules/wrangler/bin/wrangler.js'), 'dev', '--port', String(port), '--ip', '127.0.0.1',
        '--persist-to', persist, '--var', 'PIE_PUBLIC_READS:true', '--log-level', 'warn'], { cwd: root });
      children.push(child);
      const url = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 120; i++) {
        try { if ((await fetch(`${url}/health`)).ok) break; } catch { /* not up yet */ }
        await new Promise((r) => setTimeout(r, 500));
      }
      await fetch(`${url}${runPath}/predict`, { method: 'POST', body: Buffer.from(pngs[0]), headers: { 'content-type': 'image/png' } });
      await load(url, 'workerd');
    } else {
      throw new Error(`unknown target '${target}' (node, workerd)`);
    }
  }
} finally {
  for (const c of children) c.kill('SIGTERM');
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
