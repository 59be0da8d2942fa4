/**
 * Image-folder decoding throughput and memory: writes a folder of n 32×32 RGB PNGs (10 classes,
 * train/ and test/), loads it as `pie run --data-dir` does (header pass and decode in the worker
 * pool), and prints images/s, the bytes of the decoded arrays, and the process's peak resident
 * memory — the figure the README gives for 50k images.
 *
 *   npm run bench:decode -- --images 50000 --workers 2
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodePng } from '../../lib/image/index.ts';
import { loadDataset } from '../data.ts';
import { classImage } from '../testing.ts';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '50000' },
    workers: { type: 'string', default: String(availableParallelism()) },
    jpeg: { type: 'boolean', default: false },
  },
});
const n = Number(values.images);
const dir = mkdtempSync(join(tmpdir(), 'pie-bench-decode-'));
const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
// MiB throughout.
try {
  let written = 0;
  for (let i = 0; i < n; i++) {
    const c = i % 10;
    const split = i % 6 === 5 ? 'test' : 'train';
    const folder = join(dir, split, `class${c}`);
    if (i < 60) mkdirSync(folder, { recursive: true });
    const rgb = classImage(c, 32, 32, i);
    const png = encodePng(rgb, 32, 32, 1, 3);
    writeFileSync(join(folder, `${String(i).padStart(6, '0')}.png`), png);
    written += png.length;
  }
  console.log(`wrote ${n} 32×32 RGB PNGs (${mb(written)} MB) to a temporary folder`);
  const before = process.memoryUsage().rss;
  const started = performance.now();
  const ds = await loadDataset({ kind: 'folder', name: 'bench', dir }, { workers: Number(values.workers) });
  const seconds = (performance.now() - started) / 1000;
  const arrays = ds.train.images.byteLength + ds.test.images.byteLength;
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(`decoded ${ds.train.n + ds.test.n} images (${ds.rows}×${ds.cols}×${ds.channels}) with ${values.workers} worker(s) ` +
    `in ${seconds.toFixed(1)} s: ${Math.round(n / seconds)} images/s (header pass + decode, worker start-up included)`);
  console.log(`memory: decoded arrays ${mb(arrays)} MiB; process resident ${mb(before)} MiB before, peak ${mb(peak)} MiB ` +
    '(worker threads included: each holds one file at a time)');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
