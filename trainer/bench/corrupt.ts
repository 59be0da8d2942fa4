/**
 * Corruption throughput: every corruption over n test images (Fashion-MNIST's first n, 28×28
 * gray, or synthetic 32×32 colour with --colour), at one severity, in one process. Prints
 * images/s and seconds per 10 000 images for each, and each as a multiple of a baseline measured
 * in the same run: one plain pass over the pixels (bytes → floats in [0, 1] → rounded bytes),
 * the least any corruption does.
 *
 *   npm run bench:corrupt -- [--images 10000] [--severity 3] [--colour] [--only name,name]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORRUPTIONS, corrupt, parseCorruptionList, type ImageU8 } from '../../lib/corrupt/index.ts';
import { fromUnit, toUnit } from '../../lib/corrupt/image.ts';
import { sampleImage } from '../../lib/corrupt/testing.ts';
import { benchArgs } from '../../node/bench-args.ts';
import { FASHION_MNIST_DIR, parseIdx } from '../data.ts';

const v = benchArgs('Corruption throughput per corruption: npm run bench:corrupt -- [options]', {
  images: { type: 'string', default: '10000' },
  severity: { type: 'string', default: '3' },
  colour: { type: 'boolean', default: false },
  only: { type: 'string', default: 'all' },
});
const n = Number(v.images);
const severity = Number(v.severity);
if (!Number.isInteger(n) || n < 1) throw new Error(`--images must be a positive whole number, got ${v.images}`);
const names = parseCorruptionList(v.only);

function loadImages(): { images: ImageU8[]; what: string } {
  const idx = join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz');
  if (!v.colour && existsSync(idx)) {
    const { data } = parseIdx(readFileSync(idx), idx);
    const count = Math.min(n, data.length / 784);
    const images = Array.from({ length: n }, (_, i) => ({ data: data.subarray((i % count) * 784, (i % count + 1) * 784), width: 28, height: 28, channels: 1 as const }));
    return { images, what: `${n} Fashion-MNIST test images (28×28×1)` };
  }
  const [w, ch] = v.colour ? [32, 3 as const] : [28, 1 as const];
  return { images: Array.from({ length: n }, (_, i) => sampleImage(i, w, w, ch)), what: `${n} synthetic images (${w}×${w}×${ch})` };
}

function time(fn: (image: ImageU8, i: number) => unknown, images: ImageU8[]): number {
  for (let i = 0; i < Math.min(200, images.length); i++) fn(images[i], i); // warm-up
  const t0 = performance.now();
  let sink = 0;
  for (let i = 0; i < images.length; i++) sink += (fn(images[i], i) as ImageU8).data[0];
  const seconds = (performance.now() - t0) / 1000;
  if (sink < 0) console.log(sink);
  return seconds;
}

const { images, what } = loadImages();
console.log(`${what}, severity ${severity} (or 1 where that is the only one)`);
const base = time((im) => fromUnit(toUnit(im), im), images);
console.log(`baseline (one pass bytes → floats → bytes): ${Math.round(n / base)} images/s`);
console.log('corruption          images/s   s per 10k   × baseline');
let total = 0;
for (const name of names) {
  const info = CORRUPTIONS.find((c) => c.name === name)!;
  const s = Math.min(severity, info.severities);
  const seconds = time((im, i) => corrupt(im, name, s, i), images);
  total += seconds;
  console.log(`${`${name}-${s}`.padEnd(18)} ${String(Math.round(n / seconds)).padStart(9)}   ${((seconds * 10000) / n).toFixed(2).padStart(9)}   ${(seconds / base).toFixed(1).padStart(10)}`);
}
console.log(`all ${names.length}: ${total.toFixed(1)} s for ${n} images each`);
