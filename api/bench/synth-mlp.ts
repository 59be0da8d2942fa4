/**
 * Writes a synthesized LeNet-300-100 run (random members, no training; lib/synthetic.ts) into the
 * runs directory given as the first argument, shaped as a preset's levels: `quick` (K = 10;
 * dense, p50, p90, p99, f16, int8-dyn, int8-full) or `paper` (K = 30; dense, p10 … p99 as the
 * paper preset, f16, int8-dyn, int8-full). For bench:api --synthetic quick|paper: live
 * prediction costs of that shape, with random weights (He init, pruned at random).
 *
 *   node --import tsx api/bench/synth-mlp.ts <runs-dir> quick|paper [images-idx3-ubyte[.gz]]
 *
 * With an IDX image file (28×28), its first 1000 images are the evaluation images, so inputs
 * have real images' zeros; otherwise generated 28×28 blobs on a zero background.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { mulberry32 } from '../../lib/random.ts';
import { writeSyntheticRun } from '../../lib/synthetic.ts';
import { FsStore } from '../../node/store-fs.ts';

const [dir, shape, idx] = process.argv.slice(2);
if (!dir || (shape !== 'quick' && shape !== 'paper')) throw new Error('usage: synth-mlp.ts <runs-dir> quick|paper [images-idx3-ubyte[.gz]]');
const N = 1000, SIDE = 28;

function idxPixels(path: string): Uint8Array {
  let bytes: Uint8Array = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0) !== 0x803 || dv.getUint32(8) !== SIDE || dv.getUint32(12) !== SIDE || dv.getUint32(4) < N) {
    throw new Error(`${path}: expected an IDX3 file of at least ${N} ${SIDE}×${SIDE} images`);
  }
  return bytes.slice(16, 16 + N * SIDE * SIDE);
}

/** An ellipse of random intensities on a zero background per image, about half the pixels 0 (as Fashion-MNIST). */
function blobs(): Uint8Array {
  const rand = mulberry32(7);
  const px = new Uint8Array(N * SIDE * SIDE);
  for (let k = 0; k < N; k++) {
    const cx = 10 + rand() * 8, cy = 10 + rand() * 8, rx = 7 + rand() * 6, ry = 7 + rand() * 6;
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1) px[(k * SIDE + y) * SIDE + x] = 1 + Math.floor(rand() * 255);
    }
  }
  return px;
}

const paper = shape === 'paper';
const m = await writeSyntheticRun(new FsStore(dir), {
  runId: `synthetic-mlp-${shape}`, numClasses: 10, images: N, imageSize: SIDE, hidden: [300, 100], seed: 1,
  K: paper ? 30 : 10,
  sparsities: paper ? [0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99] : [0.5, 0.9, 0.99],
  quantizations: ['float16', 'int8-dynamic', 'int8-full'],
  pixels: idx ? idxPixels(idx) : blobs(),
});
console.log(`wrote ${m.runId}: ${m.levels.map((l) => l.name).join(', ')} × K = ${m.K}`);
