/**
 * Writes a synthesized lenet5 run (random CNN members, no training; lib/synthetic.ts) into the
 * runs directory given as the first argument: 28×28×1, 10 classes, 2000 images, K = 8, levels
 * dense, p50, p90, p99, f16, int8-dyn, int8-full. For bench:api --synthetic lenet5.
 */
import { writeSyntheticRun } from '../../lib/synthetic.ts';
import { FsStore } from '../../node/store-fs.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: synth-cnn.ts <runs-dir>');
const m = await writeSyntheticRun(new FsStore(dir), {
  runId: 'synthetic-lenet5', numClasses: 10, images: 2000, K: 8, sparsities: [0.5, 0.9, 0.99], imageSize: 28, seed: 1,
  arch: 'lenet5', quantizations: ['float16', 'int8-dynamic', 'int8-full'],
});
console.log(`wrote ${m.runId}: ${m.levels.map((l) => l.name).join(', ')}`);
