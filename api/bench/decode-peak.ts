/**
 * One image decode in a fresh process, for bench:abuse: prints {"ms", "rssBefore", "rssPeak",
 * "width", "height", "inflated"?} as JSON (RSS in KB). `lib` decodes as the API does (lib/image, with the
 * Workers' decoder-memory limit); `full` decodes at full size with the plain library (jpeg-js
 * for a .jpg, fast-png for a .png), as lib/image did before large files were decoded at 1/8
 * scale — the baseline the figure is compared with. `inflate` (a .png) only inflates the image
 * data with fflate's streaming inflater, keeping nothing: the floor under a streamed PNG decode,
 * as the inflater's output buffers are garbage the collector reclaims only after a while.
 * Every decode is synchronous, so a worker
 * thread samples the process's resident memory meanwhile (rss.ts); getrusage's high-water mark
 * would not do, as it keeps the parent's figure across exec.
 */
import { readFileSync } from 'node:fs';
import { decode as decodePngLib } from 'fast-png';
import { Unzlib } from 'fflate';
import jpeg from 'jpeg-js';
import { decodeImage } from '../../lib/image/index.ts';
import { pngChunks } from '../../lib/image/testing.ts';
import { rssKb, startRssSampler } from './rss.ts';

const [file, mode] = process.argv.slice(2);
const bytes = new Uint8Array(readFileSync(file));
const png = file.endsWith('.png');
const sampler = await startRssSampler();
await new Promise((r) => setTimeout(r, 100));
const rssBefore = rssKb();
/** Inflates the IDAT chunks 8 KB at a time, as lib/image does (png.ts, png-scaled.ts); the output's size. */
function inflateOnly(b: Uint8Array): { width: number; height: number; inflated: number } {
  let produced = 0;
  const inflater = new Unzlib((chunk) => { produced += chunk.length; });
  for (const { at, type, length } of pngChunks(b)) {
    if (type !== 'IDAT') continue;
    for (let i = at + 8; i < at + 8 + length; i += 8192) inflater.push(b.subarray(i, Math.min(at + 8 + length, i + 8192)), false);
  }
  inflater.push(new Uint8Array(0), true);
  return { width: 0, height: 0, inflated: produced };
}
const t = performance.now();
const out = mode === 'inflate' ? inflateOnly(bytes)
  : mode !== 'full' ? decodeImage(bytes, png ? 'image/png' : 'image/jpeg', { maxDecodeMemory: 48 * 1024 * 1024 }, { color: true })
  : png ? decodePngLib(bytes) : jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 4096 });
const ms = performance.now() - t;
const { peakKb } = await sampler.stop();
console.log(JSON.stringify({ ms, rssBefore, rssPeak: Math.max(peakKb, rssBefore), width: out.width, height: out.height, inflated: 'inflated' in out ? out.inflated : undefined }));
