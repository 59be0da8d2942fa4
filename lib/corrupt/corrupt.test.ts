import { describe, expect, it } from 'vitest';
import { CORRUPTIONS, corrupt, corruptImages, corruptionNames, imageSeed, parseCorruptionList } from './index.ts';
import { sampleImage } from './testing.ts';

const SHAPES = [
  { width: 28, height: 28, channels: 1 as const },
  { width: 32, height: 32, channels: 3 as const },
  { width: 19, height: 11, channels: 3 as const },
  { width: 1, height: 1, channels: 1 as const },
  { width: 3, height: 2, channels: 3 as const },
];

describe('every corruption at every severity', () => {
  for (const info of CORRUPTIONS) {
    for (let s = 1; s <= info.severities; s++) {
      for (const shape of SHAPES) {
        it(`${info.name}-${s} on ${shape.width}×${shape.height}×${shape.channels}: same seed same bytes, shape kept`, () => {
          const image = sampleImage(7, shape.width, shape.height, shape.channels);
          const before = image.data.slice();
          const a = corrupt(image, info.name, s, 42);
          const b = corrupt(image, info.name, s, 42);
          expect(a.width).toBe(shape.width);
          expect(a.height).toBe(shape.height);
          expect(a.channels).toBe(shape.channels);
          expect(a.data).toBeInstanceOf(Uint8Array);
          expect(a.data.length).toBe(image.data.length);
          expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
          expect(Buffer.from(image.data).equals(Buffer.from(before))).toBe(true); // input untouched
        });
      }
      if (info.random) {
        it(`${info.name}-${s}: another seed gives other bytes for some image`, () => {
          const image = sampleImage(3);
          const base = corrupt(image, info.name, s, 1);
          // Some corruptions draw one bit (a rotation's sign): one of several seeds must differ.
          const differs = [2, 3, 4, 5, 6, 7, 8, 9].some((seed) => !Buffer.from(corrupt(image, info.name, s, seed).data).equals(Buffer.from(base.data)));
          expect(differs).toBe(true);
        });
      } else {
        it(`${info.name}-${s}: the seed does not matter`, () => {
          const image = sampleImage(3);
          expect(corrupt(image, info.name, s, 1).data).toEqual(corrupt(image, info.name, s, 99).data);
        });
      }
    }
  }
});

describe('choosing corruptions', () => {
  it('lists unique names with a severity count and a source', () => {
    expect(new Set(corruptionNames()).size).toBe(CORRUPTIONS.length);
    for (const c of CORRUPTIONS) {
      expect([1, 5]).toContain(c.severities);
      expect(['mnist-c', 'imagenet-c']).toContain(c.source);
    }
  });

  it("parses 'all' and a comma list, trimming and dropping duplicates", () => {
    expect(parseCorruptionList('all')).toEqual(corruptionNames());
    expect(parseCorruptionList(' rotate, shot_noise ,rotate')).toEqual(['rotate', 'shot_noise']);
  });

  it('names the unknown corruptions and the valid ones', () => {
    expect(() => parseCorruptionList('rotate,blurry,snowy')).toThrow(/"blurry", "snowy".*shot_noise/);
    expect(() => parseCorruptionList(' , ')).toThrow(/no corruption named/);
    expect(() => corrupt(sampleImage(1), 'blurry', 1, 0)).toThrow(/unknown corruption "blurry".*rotate/);
  });

  it('names a severity out of range and the valid range', () => {
    expect(() => corrupt(sampleImage(1), 'rotate', 6, 0)).toThrow(/severity 6 .*rotate.*1 to 5/);
    expect(() => corrupt(sampleImage(1), 'rotate', 0, 0)).toThrow(/severity 0/);
    expect(() => corrupt(sampleImage(1), 'rotate', 2.5, 0)).toThrow(/severity 2.5/);
  });

  it('refuses an image whose data does not match its shape', () => {
    expect(() => corrupt({ data: new Uint8Array(10), width: 28, height: 28, channels: 1 }, 'rotate', 1, 0)).toThrow(/holds 10 bytes.*784/);
  });
});

describe('corrupting a set of images', () => {
  it('gives image i what corrupt gives it alone with imageSeed(seed, i), so one image can be redone', () => {
    const shape = { width: 28, height: 28, channels: 1 as const };
    const parts = [1, 2, 3].map((s) => sampleImage(s).data);
    const set = new Uint8Array(3 * 784);
    parts.forEach((p, i) => set.set(p, i * 784));
    const out = corruptImages(set, shape, 'gaussian_noise', 2, 9);
    for (let i = 0; i < 3; i++) {
      expect(out.subarray(i * 784, (i + 1) * 784)).toEqual(corrupt({ data: parts[i], ...shape }, 'gaussian_noise', 2, imageSeed(9, i)).data);
    }
    // Each image draws its own noise: two copies of one image come out different.
    const twice = new Uint8Array(2 * 784);
    twice.set(parts[0], 0);
    twice.set(parts[0], 784);
    const noisy = corruptImages(twice, shape, 'gaussian_noise', 2, 9);
    expect(noisy.subarray(0, 784)).not.toEqual(noisy.subarray(784));
  });

  it('refuses a set that is not a whole number of images', () => {
    expect(() => corruptImages(new Uint8Array(800), { width: 28, height: 28, channels: 1 }, 'rotate', 1, 0)).toThrow(/800 bytes.*28×28×1/);
  });
});
