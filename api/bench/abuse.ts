/**
 * The API under abuse, on Node: /health and a dataset lookup, p50/p99, idle and while four
 * clients loop on the worst legal upload (a 4096² 8-bit RGBA PNG, the largest within the default
 * decode budget); and the peak memory of decoding a 12-megapixel JPEG (as lib/image does, and at
 * full size with jpeg-js as the baseline). Figures only; loopback.
 *
 *   npm run bench:abuse -- [--runs-dir runs] [--seconds 10] [--side 4096]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { encode } from 'fast-png';
import jpeg from 'jpeg-js';
import { startNodeServer } from '../node.ts';

const { values } = parseArgs({
  options: {
    'runs-dir': { type: 'string', default: 'runs' },
    seconds: { type: 'string', default: '10' },
    side: { type: 'string', default: '4096' },
  },
});
const seconds = Number(values.seconds);
const side = Number(values.side);
const server = await startNodeServer({ runsDir: resolve(values['runs-dir']!), port: 0, env: { ...process.env, PIE_PUBLIC_READS: 'true' } });

const rgba = new Uint8Array(side * side * 4);
for (let i = 0; i < rgba.length; i += 4) { rgba[i] = (i * 7) & 255; rgba[i + 1] = (i >> 12) & 255; rgba[i + 3] = 255; }
const worst = encode({ width: side, height: side, data: rgba, channels: 4, depth: 8 });

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;
async function probe(path: string, ms: number): Promise<number[]> {
  const out: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const t = performance.now();
    await (await fetch(`${server.url}${path}`)).arrayBuffer();
    out.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 10));
  }
  return out;
}
const probes = async (ms: number) => {
  const [health, lookup] = await Promise.all([probe('/health', ms), probe('/v1/runs/latest/images/7', ms)]);
  return { health, lookup };
};

const idle = await probes(Math.max(1000, seconds * 300));
let stop = false;
const sent = { ok: 0, busy: 0, other: 0 };
const clients = Array.from({ length: 4 }, async () => {
  while (!stop) {
    const r = await fetch(`${server.url}/v1/runs/latest/predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: worst as Uint8Array<ArrayBuffer> });
    if (r.status === 200 || r.status === 503) await r.arrayBuffer();
    if (r.status === 200) sent.ok++; else if (r.status === 503) { sent.busy++; await new Promise((res) => setTimeout(res, 1000 * Number(r.headers.get('retry-after') ?? 1))); } else { sent.other++; if (sent.other === 1) console.error(`unexpected ${r.status}: ${await r.text().catch(() => "")}`); }
  }
});
const loaded = await probes(seconds * 1000);
stop = true;
await Promise.all(clients);

console.log(`abuse on Node: four clients looping on a ${side}² 8-bit RGBA PNG (${(worst.length / 1024).toFixed(0)} KB) for ${seconds} s: ` +
  `${sent.ok} answered, ${sent.busy} refused with 503 + Retry-After, ${sent.other} other`);
console.log('route                   idle p50 / p99 ms     under abuse p50 / p99 ms   p99 ratio');
for (const [name, key] of [['/health', 'health'], ['lookup images/7', 'lookup']] as const) {
  const a = idle[key], b = loaded[key];
  console.log(`${name.padEnd(22)}  ${pct(a, 0.5).toFixed(1).padStart(7)} / ${pct(a, 0.99).toFixed(1).padStart(7)}       ${pct(b, 0.5).toFixed(1).padStart(7)} / ${pct(b, 0.99).toFixed(1).padStart(7)}      ${(pct(b, 0.99) / pct(a, 0.99)).toFixed(2)}×   (target p99 < 50 ms; n = ${b.length})`);
}
await server.close();

// Peak memory of one 12-MP JPEG decode: each decode in a fresh process (api/bench/decode-peak.ts),
// whose resident memory a second thread samples during the decode; the same file decoded at full
// size by jpeg-js is the baseline.
const w = 4000, h = 3000;
const px = Buffer.alloc(w * h * 4);
for (let i = 0; i < px.length; i += 4) { px[i] = (i >> 5) & 255; px[i + 1] = (i >> 13) & 255; px[i + 2] = 128; px[i + 3] = 255; }
const photo = new Uint8Array(jpeg.encode({ data: px, width: w, height: h }, 85).data);
const photoPath = join(mkdtempSync(join(tmpdir(), 'pie-abuse-')), 'photo.jpg');
writeFileSync(photoPath, photo);
const peak = (mode: 'lib' | 'full') => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'decode-peak.ts'), photoPath, mode], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`decode-peak ${mode} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; rssBefore: number; rssPeak: number; width: number; height: number };
};
const full = peak('full'), lib = peak('lib');
const grew = (p: typeof lib) => (p.rssPeak - p.rssBefore) / 1024;
console.log(`\n12-MP JPEG (${w}×${h}, ${(photo.length / 1024 / 1024).toFixed(1)} MB) decode on Node, each in a fresh process (growth of resident memory during the decode, sampled every ms):`);
const line = (p: typeof lib) => `+${grew(p).toFixed(0)} MB (peak RSS ${(p.rssPeak / 1024).toFixed(0)} MB, ${(p.rssBefore / 1024).toFixed(0)} MB before), ${p.ms.toFixed(0)} ms, ${p.width}×${p.height} out`;
console.log(`  lib/image (1/8-scale DCT decode, Workers' 48 MiB limit): ${line(lib)}`);
console.log(`  jpeg-js at full size (the baseline):                   ${line(full)}`);
console.log(`  ratio lib/image / baseline: ${(grew(lib) / grew(full)).toFixed(3)} of the growth, ${(lib.rssPeak / full.rssPeak).toFixed(2)} of the peak RSS, ${(lib.ms / full.ms).toFixed(2)} of the time`);
console.log('12-MP JPEG decode on workerd: not measured here (workerd exposes no per-request memory figure to a test); the lib/image decode it runs is the same code, and test/workers/color.test.ts checks that a 12-MP JPEG is answered');
process.exit(0);
