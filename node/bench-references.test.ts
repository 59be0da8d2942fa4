/**
 * The benchmarks' references (node/bench-references.ts): each measures what it says, on the
 * memory and threads it says. Speeds are not asserted here (the benchmarks print them).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createPredictor, toDenseModel } from '../lib/model/index.ts';
import { randomImages, randomMlp } from '../lib/model/testing.ts';
import type { WasmKernels } from '../lib/model/wasm/runtime.ts';
import { inCacheUsPerModel, median, memoryReadMs, mulAddPeak, mulAddThreads } from './bench-references.ts';
import { installNodeKernels } from './wasm-kernels.ts';

let kernels: WasmKernels;
beforeAll(async () => { kernels = await installNodeKernels(); });

describe('benchmark references', () => {
  it('median: the middle value, or the mean of the middle two', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('reads the whole of the kernels\' memory, grown memory included', async () => {
    const ptr = kernels.alloc(3 << 20); // grows the memory past what the module started with
    try {
      const read = await memoryReadMs(kernels, 2);
      expect(read.bytes).toBe(kernels.memoryBytes - (kernels.memoryBytes % 128));
      expect(read.bytes).toBeGreaterThan(3 << 20);
      expect(read.ms).toBeGreaterThan(0);
    } finally {
      kernels.release(ptr);
    }
  });

  it('the multiply + add ceiling is a rate over CPU time, and the thread speed-up stays within the thread count', async () => {
    const peak = await mulAddPeak(kernels);
    const gmacs = peak(20);
    expect(gmacs).toBeGreaterThan(0.1);
    expect(gmacs).toBeLessThan(1000);
    const threads = await mulAddThreads(2);
    try {
      const s = await threads.speedUp();
      expect(s).toBeGreaterThan(0.2);
      expect(s).toBeLessThan(2.5);
    } finally {
      await threads.close();
    }
  });

  it('in cache: one figure per level, from the level\'s first member', () => {
    const small = createPredictor(toDenseModel(randomMlp([64, 32, 10], 1)));
    const large = createPredictor(toDenseModel(randomMlp([64, 512, 10], 2)));
    const x = randomImages(5, 64, 3);
    const inputs = [0, 1, 2, 3, 4].map((k) => x.subarray(k * 64, (k + 1) * 64));
    const [a, b] = inCacheUsPerModel([[small, large], [large, small]], inputs, 10, 4);
    expect(a).toBeGreaterThan(0);
    // The second level's first member has 16× the weights: it cannot be the cheaper one.
    expect(b).toBeGreaterThan(a);
    small.release();
    large.release();
  });
});
