/**
 * Speed of the PIE analysis (lib/analysis analyzeRun) at the paper's size: 7 levels × 30 members
 * × 10 000 test images × 10 classes of generated predictions, as a figure (no threshold).
 *
 *   npm run bench:analysis -- [--images 10000] [--members 30] [--repeats 3]
 */
import { analyzeRun } from '../../lib/analysis/index.ts';
import { balancedLabels, mulberry32, noisyPredictions } from '../../lib/analysis/testing.ts';
import { benchArgs } from '../../node/bench-args.ts';

const values = benchArgs('Speed of the PIE analysis on generated predictions: npm run bench:analysis -- [options]', {
  images: { type: 'string', default: '10000' },
  members: { type: 'string', default: '30' },
  repeats: { type: 'string', default: '3' },
});
const N = Number(values.images), K = Number(values.members), repeats = Number(values.repeats);
const levelNames = ['dense', 'p50', 'p90', 'p99', 'f16', 'int8-dyn', 'int8-full'];
const labels = balancedLabels(N, 10);
const predictions = noisyPredictions(mulberry32(3), labels, levelNames.length, K, 10, (t) => 0.9 - 0.03 * t);
const times: number[] = [];
for (let r = 0; r < repeats; r++) {
  const start = performance.now();
  analyzeRun({ predictions, labels, numClasses: 10, K, levelNames });
  times.push(performance.now() - start);
}
times.sort((a, b) => a - b);
console.log(`analysis of ${levelNames.length} levels × ${K} members × ${N} images: median ${times[Math.floor(times.length / 2)].toFixed(0)} ms ` +
  `(min ${times[0].toFixed(0)} ms, ${repeats} runs; ${(levelNames.length * K * N / (times[0] / 1000) / 1e6).toFixed(1)} M predictions/s)`);
