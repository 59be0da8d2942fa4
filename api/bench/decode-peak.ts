/**
 * One JPEG decode in a fresh process, for bench:abuse: prints {"ms", "rssBefore", "rssPeak",
 * "width", "height"} as JSON (RSS in KB). `lib` decodes as the API does (lib/image, with the
 * Workers' decoder-memory limit); `full` decodes at full size with jpeg-js, as lib/image did
 * before large JPEGs were decoded at 1/8 scale — the baseline the figure is compared with.
 */
import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { decodeImage } from '../../lib/image/index.ts';

const [file, mode] = process.argv.slice(2);
const bytes = new Uint8Array(readFileSync(file));
const rssBefore = process.resourceUsage().maxRSS;
const t = performance.now();
const out = mode === 'full'
  ? jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 4096 })
  : decodeImage(bytes, 'image/jpeg', { maxDecodeMemory: 48 * 1024 * 1024 }, { color: true });
const ms = performance.now() - t;
console.log(JSON.stringify({ ms, rssBefore, rssPeak: process.resourceUsage().maxRSS, width: out.width, height: out.height }));
