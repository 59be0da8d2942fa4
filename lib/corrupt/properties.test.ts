/**
 * A property of each corruption's own, one that a wrong implementation would break, and severity
 * monotonicity where the reference's parameters grow with severity.
 */
import { describe, expect, it } from 'vitest';
import { rotateImage, scaleImage, shearImage, translateImage } from './geometry.ts';
import { CORRUPTIONS, corrupt, corruptionNames, type ImageU8 } from './index.ts';
import { flatImage, mean, meanAbsDiff, neighbourEnergy, pixel, sampleImage, std } from './testing.ts';

const gray = (seed: number) => sampleImage(seed);
const colour = (seed: number) => sampleImage(seed, 32, 32, 3);
const SEEDS = [1, 2, 3, 4, 5, 6];

/** Mean over several images and seeds of the mean absolute difference from the original. */
function change(name: string, severity: number, make = gray): number {
  let s = 0;
  for (const seed of SEEDS) {
    const image = make(seed);
    s += meanAbsDiff(image, corrupt(image, name, severity, seed * 7));
  }
  return s / SEEDS.length;
}

function energyRatio(name: string, severity: number, make = gray): number {
  let before = 0, after = 0;
  for (const seed of SEEDS) {
    const image = make(seed);
    before += neighbourEnergy(image);
    after += neighbourEnergy(corrupt(image, name, severity, seed));
  }
  return after / before;
}

/** √(Σ v·r² / Σ v), r the distance from the image centre: how far out the content lies. */
function gyration(image: ImageU8): number {
  const cx = (image.width - 1) / 2, cy = (image.height - 1) / 2;
  let m = 0, r2 = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const v = pixel(image, x, y);
      m += v;
      r2 += v * ((x - cx) ** 2 + (y - cy) ** 2);
    }
  }
  return Math.sqrt(r2 / m);
}

/** Corruptions whose change from the original should grow with severity (on average over images). */
const MONOTONE = new Set(['shot_noise', 'impulse_noise', 'gaussian_noise', 'brightness', 'contrast', 'rotate', 'shear', 'scale', 'translate',
  'defocus_blur', 'motion_blur', 'fog', 'pixelate', 'jpeg_compression', 'glass_blur']);

const PROPERTIES: Record<string, () => void> = {
  shot_noise() {
    for (let s = 1; s <= 5; s++) expect(energyRatio('shot_noise', s)).toBeGreaterThan(1.05);
    // Poisson counts are unbiased: a flat mid-gray image keeps its mean.
    const out = corrupt(flatImage(128, 64, 64), 'shot_noise', 3, 1);
    expect(Math.abs(mean(out) - 128)).toBeLessThan(4);
    // Variance of k/c for k ~ Poisson(x·c) is x/c: at c = 12 (severity 3), x = 128/255, sd = 0.2045·255 ≈ 52.
    expect(std(out)).toBeGreaterThan(47);
    expect(std(out)).toBeLessThan(57);
  },
  impulse_noise() {
    const image = flatImage(128, 64, 64);
    const out = corrupt(image, 'impulse_noise', 5, 1); // c = 0.27
    const changed = out.data.filter((v) => v !== 128).length / out.data.length;
    const salt = out.data.filter((v) => v === 255).length / out.data.length;
    expect(changed).toBeGreaterThan(0.24);
    expect(changed).toBeLessThan(0.3);
    expect(salt).toBeGreaterThan(0.11);
    expect(salt).toBeLessThan(0.16);
    expect(out.data.every((v) => v === 0 || v === 128 || v === 255)).toBe(true);
  },
  gaussian_noise() {
    for (let s = 1; s <= 5; s++) expect(energyRatio('gaussian_noise', s)).toBeGreaterThan(1.05);
    // E|N(0, σ²)| = σ·√(2/π): at severity 5, σ = 0.10·255.
    const out = corrupt(flatImage(128, 64, 64), 'gaussian_noise', 5, 3);
    expect(meanAbsDiff(out, flatImage(128, 64, 64)) / (0.1 * 255 * Math.sqrt(2 / Math.PI))).toBeCloseTo(1, 1);
  },
  brightness() {
    for (const make of [gray, colour]) {
      for (let s = 1; s <= 5; s++) expect(mean(corrupt(make(1), 'brightness', s, 0))).toBeGreaterThan(mean(make(1)) + 10);
    }
    // Gray: x + c exactly (0.3·255 = 76.5 → black becomes 77).
    expect(corrupt(flatImage(0), 'brightness', 3, 0).data.every((v) => v === 77)).toBe(true);
    // Colour keeps hue: a pure red pixel stays red, brighter.
    const red: ImageU8 = { data: new Uint8Array([100, 0, 0]), width: 1, height: 1, channels: 3 };
    expect([...corrupt(red, 'brightness', 4, 0).data]).toEqual([202, 0, 0]); // 100 + 0.4·255
  },
  contrast() {
    for (const make of [gray, colour]) {
      for (let s = 1; s <= 5; s++) {
        const image = make(2);
        const out = corrupt(image, 'contrast', s, 0);
        const c = [0.75, 0.5, 0.4, 0.3, 0.15][s - 1];
        expect(std(out) / std(image)).toBeCloseTo(c, 1);
        expect(Math.abs(mean(out) - mean(image))).toBeLessThan(1);
      }
    }
  },
  rotate() {
    const image = gray(1);
    expect(rotateImage(image, 0).data).toEqual(image.data);
    // A quarter turn about the centre of a square image: out[y][x] = in[x][w − 1 − y] (sampled, inverse map).
    for (const im of [image, colour(2)]) {
      const r = rotateImage(im, Math.PI / 2);
      const w = im.width;
      for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) for (let k = 0; k < im.channels; k++) {
        expect(pixel(r, x, y, k)).toBe(pixel(im, w - 1 - y, x, k));
      }
    }
    // Rotation about the centre keeps the centre of mass (roughly: bilinear sampling, borders black).
    const out = corrupt(flatImage(200, 29, 29), 'rotate', 3, 1);
    expect(pixel(out, 14, 14)).toBe(200);
    expect(pixel(out, 0, 0)).toBe(0); // a corner rotates in from outside
  },
  shear() {
    const image = gray(1);
    expect(shearImage(image, 0).data).toEqual(image.data);
    // Shear keeps every row's y (inverse map x_in = x − sin(s)·(y − c) + …, y_in = cos(s)·(y − c) + c): the centre row stays put.
    // Shear (inverse map x_in = x − sin(s)·(y − c) + …, y_in = cos(s)·(y − c) + c) fixes the centre row.
    const image2 = gray(2);
    for (let s = 1; s <= 5; s++) {
      const out = corrupt(flatImage(100, 29, 29), 'shear', s, 2);
      for (let x = 0; x < 29; x++) expect(pixel(out, x, 14)).toBe(100);
      expect(corrupt(image2, 'shear', s, 2).data).not.toEqual(image2.data);
    }
  },
  scale() {
    const image = gray(1);
    expect(scaleImage(image, 1).data).toEqual(image.data);
    // The content shrinks about the centre to c of its size: so does its radius of gyration.
    for (let s = 1; s <= 5; s++) {
      const c = [0.9, 0.8, 0.7, 0.6, 0.5][s - 1];
      expect(gyration(corrupt(image, 'scale', s, 0)) / gyration(image)).toBeCloseTo(c, 1);
    }
  },
  translate() {
    const image = gray(1);
    expect(translateImage(image, 0, 0).data).toEqual(image.data);
    // Integer shifts move pixels exactly, black coming in from the edge.
    for (let s = 1; s <= 5; s++) {
      const out = corrupt(image, 'translate', s, 11);
      let matchedShift = false;
      for (const dx of [-s, s]) for (const dy of [-s, s]) {
        let ok = true;
        for (let y = 0; y < 28 && ok; y++) for (let x = 0; x < 28 && ok; x++) {
          const sx = x + dx, sy = y + dy;
          const want = sx >= 0 && sx < 28 && sy >= 0 && sy < 28 ? pixel(image, sx, sy) : 0;
          ok = pixel(out, x, y) === want;
        }
        matchedShift ||= ok;
      }
      expect(matchedShift).toBe(true);
    }
  },
};

describe('each corruption has a property of its own', () => {
  it('covers every corruption', () => {
    expect(corruptionNames().filter((n) => !(n in PROPERTIES))).toEqual([]);
  });
  for (const [name, check] of Object.entries(PROPERTIES)) it(name, check);
});

describe('a higher severity changes the image more', () => {
  for (const info of CORRUPTIONS.filter((c) => MONOTONE.has(c.name))) {
    it(info.name, () => {
      for (const make of [gray, colour]) {
        const changes = Array.from({ length: info.severities }, (_, i) => change(info.name, i + 1, make));
        for (let s = 1; s < changes.length; s++) expect(changes[s], `severity ${s + 1} vs ${s}: ${changes.map((c) => c.toFixed(1))}`).toBeGreaterThan(changes[s - 1]);
        expect(changes[0]).toBeGreaterThan(0.5);
      }
    });
  }
});
