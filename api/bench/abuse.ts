/**
 * The API under abuse, on Node: /health and a dataset lookup, p50/p99, idle and while four
 * clients loop on the worst legal upload (a 4096² 8-bit RGBA PNG, the largest within the default
 * decode budget); and the peak memory of a 12-megapixel JPEG and a 12-megapixel Adam7-interlaced
 * PNG: decoded on Node (as lib/image does, and at full size with jpeg-js / fast-png as the
 * baseline), and uploaded for a prediction to workerd under `wrangler dev`. Figures only; loopback.
 *
 *   npm run bench:abuse -- [--runs-dir runs] [--seconds 10] [--side 4096]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { encode } from 'fast-png';
import { zlibSync } from 'fflate';
import jpeg from 'jpeg-js';
import { concat, ihdr, pngChunk, pngImageData, PNG_SIGNATURE } from '../../lib/image/testing.ts';
import { startNodeServer } from '../node.ts';
import { hwmKb, resetHwm, rssKb, startRssSampler } from './rss.ts';
import { startWranglerDev } from './wrangler-dev.ts';

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

// The 12-MP files: a JPEG, and a smooth Adam7-interlaced RGB PNG (an ordinary photo's size when
// saved as PNG would pass the 8 MiB body limit; a gradient keeps it within).
const w = 4000, h = 3000;
const px = Buffer.alloc(w * h * 4);
for (let i = 0; i < px.length; i += 4) { px[i] = (i >> 5) & 255; px[i + 1] = (i >> 13) & 255; px[i + 2] = 128; px[i + 3] = 255; }
const photo = new Uint8Array(jpeg.encode({ data: px, width: w, height: h }, 85).data);
const row = new Uint8Array(3 * w);
const pngRaw = pngImageData(w, h, 24, (y) => {
  for (let x = 0; x < w; x++) { row[3 * x] = (x >> 4) & 255; row[3 * x + 1] = (y >> 4) & 255; row[3 * x + 2] = 128; }
  return row;
}, { interlaced: true });
const photoPng = concat(PNG_SIGNATURE, ihdr(w, h, 8, 2, 1), pngChunk('IDAT', zlibSync(pngRaw, { level: 6 })), pngChunk('IEND'));
const dir = mkdtempSync(join(tmpdir(), 'pie-abuse-'));
const files = [
  { name: '12-MP JPEG', path: join(dir, 'photo.jpg'), type: 'image/jpeg', bytes: photo, baseline: 'jpeg-js' },
  { name: '12-MP interlaced PNG', path: join(dir, 'photo.png'), type: 'image/png', bytes: photoPng, baseline: 'fast-png' },
];
for (const f of files) writeFileSync(f.path, f.bytes);
const mb = (kb: number) => (kb / 1024).toFixed(0);

// Node: each decode in a fresh process (api/bench/decode-peak.ts), whose resident memory a second
// thread samples during the decode; the same file decoded at full size by the plain library is
// the baseline.
const peak = (path: string, mode: 'lib' | 'full' | 'inflate') => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'decode-peak.ts'), path, mode], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`decode-peak ${mode} ${path} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; rssBefore: number; rssPeak: number; width: number; height: number; inflated?: number };
};
const grew = (p: { rssBefore: number; rssPeak: number }) => (p.rssPeak - p.rssBefore) / 1024;
const line = (p: ReturnType<typeof peak>) => `+${grew(p).toFixed(0)} MB (peak RSS ${mb(p.rssPeak)} MB, ${mb(p.rssBefore)} MB before), ${p.ms.toFixed(0)} ms, ${p.width}×${p.height} out`;
for (const f of files) {
  const full = peak(f.path, 'full'), lib = peak(f.path, 'lib');
  console.log(`\n${f.name} (${w}×${h}, ${(f.bytes.length / 1024 / 1024).toFixed(1)} MB) decode on Node, each in a fresh process (growth of resident memory during the decode, sampled every ms):`);
  console.log(`  lib/image (1/8 scale, Workers' 48 MiB limit): ${line(lib)}`);
  console.log(`  ${`${f.baseline} at full size (the baseline):`.padEnd(45)} ${line(full)}`);
  console.log(`  ratio lib/image / baseline: ${(grew(lib) / grew(full)).toFixed(3)} of the growth, ${(lib.rssPeak / full.rssPeak).toFixed(2)} of the peak RSS, ${(lib.ms / full.ms).toFixed(2)} of the time`);
  if (f.type === 'image/png') {
    const inflate = peak(f.path, 'inflate');
    console.log(`  inflating alone, keeping nothing: +${grew(inflate).toFixed(0)} MB for ${(inflate.inflated! / 1024 / 1024).toFixed(0)} MB of image data (the streaming inflater's spent output buffers, not yet collected: most of lib/image's growth)`);
  }
}

// workerd: the same files uploaded for a prediction (decode, preprocessing and the models) to the
// Worker under `wrangler dev`, its workerd process's resident memory sampled every ms meanwhile
// and its high-water mark reset before each upload (reset and read back where the kernel allows).
// The first upload of a small image loads the run and warms the route, so the baseline is a
// serving Worker's.
const key = 'bench-key';
const dev = await startWranglerDev(resolve(values['runs-dir']!), { PIE_API_KEYS: key });
try {
  const upload = async (body: Uint8Array, type: string) => {
    const r = await fetch(`${dev.url}/v1/runs/latest/predict`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': type }, body: body as Uint8Array<ArrayBuffer> });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`workerd answered ${r.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as { image: { preprocessing: { dctScale?: number; source: { width: number; height: number } } } };
  };
  await upload(encode({ width: 64, height: 48, data: new Uint8Array(64 * 48 * 3).fill(90), channels: 3, depth: 8 }), 'image/png');
  console.log(`\n12-MP uploads to workerd (wrangler dev, pid ${dev.workerdPid}), POST /v1/runs/latest/predict, two rounds (resident memory of the Worker's workerd process):`);
  for (let round = 1; round <= 2; round++) {
    for (const f of files) {
      await new Promise((r) => setTimeout(r, 200));
      const before = rssKb(dev.workerdPid);
      const hwm = resetHwm(dev.workerdPid);
      const sampler = await startRssSampler(dev.workerdPid);
      const t = performance.now();
      const answer = await upload(f.bytes, f.type);
      const ms = performance.now() - t;
      const { peakKb, samples } = await sampler.stop();
      const high = hwm ? hwmKb(dev.workerdPid) : 0, top = Math.max(peakKb, high, before);
      const { source, dctScale } = answer.image.preprocessing;
      console.log(`  ${f.name.padEnd(21)} round ${round}: baseline ${mb(before)} MB, peak ${mb(top)} MB, +${mb(top - before)} MB ` +
        `(sampled peak ${mb(peakKb)} MB in ${samples} samples${hwm ? `, kernel high-water mark ${mb(high)} MB` : '; high-water mark not resettable'}), ` +
        `${ms.toFixed(0)} ms, decoded ${source.width}×${source.height}${dctScale ? ` (1/${dctScale})` : ''}`);
    }
  }
} finally {
  await dev.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
