/**
 * A property of each corruption's own, one that a wrong implementation would break, and severity
 * monotonicity where the reference's parameters grow with severity.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.ts';
import { diskKernel, motionBlurImage } from './blur.ts';
import { resizeBox } from './digital.ts';
import { plasmaFractal } from './weather.ts';
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
  'defocus_blur', 'motion_blur', 'pixelate', 'jpeg_compression', 'glass_blur']);

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
  defocus_blur() {
    for (const make of [gray, colour]) for (let s = 1; s <= 5; s++) expect(energyRatio('defocus_blur', s, make)).toBeLessThan(0.95);
    // The kernel sums to 1: a flat image stays exactly flat.
    expect(corrupt(flatImage(77, 32, 32, 3), 'defocus_blur', 5, 0).data.every((v) => v === 77)).toBe(true);
  },
  glass_blur() {
    for (const make of [gray, colour]) for (let s = 1; s <= 5; s++) {
      expect(energyRatio('glass_blur', s, make)).toBeLessThan(0.9);
      // Swaps move pixels, blurs average them: the mean stays (less the byte truncation between, < 1).
      const image = make(3);
      expect(Math.abs(mean(corrupt(image, 'glass_blur', s, 1)) - mean(image))).toBeLessThan(1.5);
    }
  },
  motion_blur() {
    for (const make of [gray, colour]) for (let s = 1; s <= 5; s++) expect(energyRatio('motion_blur', s, make)).toBeLessThan(0.9);
    // At angle 0 the one-sided kernel reaches right only: a vertical bar smears to its left, not to its right, and not up or down.
    const bar = flatImage(0, 28, 28);
    for (let y = 0; y < 28; y++) bar.data[y * 28 + 14] = 255;
    const out = motionBlurImage(bar, 10, 3, 0);
    for (let y = 0; y < 28; y++) {
      expect(pixel(out, 10, y)).toBeGreaterThan(0);
      expect(pixel(out, 15, y)).toBe(0);
      expect(pixel(out, 10, y)).toBe(pixel(out, 10, 0));
    }
    // At 90° it smears along columns instead.
    const down = motionBlurImage(rotateImage(bar, Math.PI / 2), 10, 3, Math.PI / 2);
    expect(pixel(down, 5, 10)).toBeGreaterThan(0);
    expect(pixel(down, 5, 15)).toBe(0);
  },
  fog() {
    for (const make of [gray, colour]) for (let s = 1; s <= 5; s++) {
      // (x + c·p)·max/(max + c) ≤ max: fog never goes above the image's brightest value.
      const image = make(4);
      const out = corrupt(image, 'fog', s, 2);
      expect(Math.max(...out.data)).toBeLessThanOrEqual(Math.max(...image.data));
      expect(meanAbsDiff(out, image)).toBeGreaterThan(5);
    }
    // Severities 3 and 4 share c = 2.5 (only the fractal's roughness differs), so only the ends are compared.
    for (const make of [gray, colour]) expect(change('fog', 5, make)).toBeGreaterThan(change('fog', 1, make));
    // On a flat image the fractal shows through: values vary, and a darkest spot stays as it was (p = 0 there).
    const out = corrupt(flatImage(200, 28, 28), 'fog', 5, 1);
    expect(std(out)).toBeGreaterThan(5);
    expect(Math.min(...out.data)).toBe(Math.round(200 * (200 / 255) / (200 / 255 + 3)));
  },
  pixelate() {
    for (const make of [gray, colour]) for (let s = 1; s <= 5; s++) {
      const image = make(5);
      const out = corrupt(image, 'pixelate', s, 0);
      const c = [0.95, 0.9, 0.85, 0.75, 0.65][s - 1];
      const small = Math.floor(image.width * c);
      // Blockwise constant: at most `small` distinct runs of identical columns, and of rows.
      let colRuns = 1, rowRuns = 1;
      const col = (x: number) => Array.from({ length: image.height * image.channels }, (_, i) => out.data[(Math.floor(i / image.channels) * image.width + x) * image.channels + (i % image.channels)]);
      const row = (y: number) => out.data.subarray(y * image.width * image.channels, (y + 1) * image.width * image.channels);
      for (let x = 1; x < image.width; x++) if (col(x).some((v, i) => v !== col(x - 1)[i])) colRuns++;
      for (let y = 1; y < image.height; y++) if (row(y).some((v, i) => v !== row(y - 1)[i])) rowRuns++;
      expect(colRuns).toBeLessThanOrEqual(small);
      expect(rowRuns).toBeLessThanOrEqual(small);
      expect(meanAbsDiff(out, image)).toBeGreaterThan(0);
    }
    expect(corrupt(flatImage(91, 32, 32, 3), 'pixelate', 5, 0).data.every((v) => v === 91)).toBe(true);
    // Pillow's BOX by hand: 4 → 2 averages pairs; 3 → 2 (scale 1.5) takes inputs whose centre offset/1.5 is in (−½, ½]:
    // {0, 1} for the first output (centre 0.75) and {2} for the second (centre 2.25).
    const row = (...v: number[]): ImageU8 => ({ data: Uint8Array.from(v), width: v.length, height: 1, channels: 1 });
    expect([...resizeBox(row(0, 100, 200, 40), 2, 1).data]).toEqual([50, 120]);
    expect([...resizeBox(row(10, 30, 200), 2, 1).data]).toEqual([20, 200]);
    expect([...resizeBox(row(10, 30, 200), 6, 1).data]).toEqual([10, 10, 30, 30, 200, 200]);
  },
  jpeg_compression() {
    for (const ch of [1, 3] as const) {
      const flat = flatImage(133, 28, 28, ch);
      for (let s = 1; s <= 5; s++) {
        const out = corrupt(flat, 'jpeg_compression', s, 0);
        expect(Math.max(...out.data.map((v) => Math.abs(v - 133)))).toBeLessThanOrEqual(1);
      }
    }
    // Losing high frequencies: energy between neighbours drops on a textured image at the lowest quality.
    expect(energyRatio('jpeg_compression', 5, gray)).toBeLessThan(1);
  },
  stripe() {
    for (const make of [gray, colour]) {
      const image = make(6);
      const out = corrupt(image, 'stripe', 1, 0);
      const band = Math.round(image.width / 4);
      for (let y = 0; y < image.height; y++) for (let x = 0; x < image.width; x++) for (let k = 0; k < image.channels; k++) {
        const inBand = x < band || x >= image.width - band;
        expect(pixel(out, x, y, k)).toBe(inBand ? 255 - pixel(image, x, y, k) : pixel(image, x, y, k));
      }
    }
    expect(Math.round(28 / 4)).toBe(7); // MNIST-C's columns 0–6 and 21–27
  },
  zigzag() {
    for (const make of [gray, colour]) for (const seed of SEEDS) {
      const image = make(seed);
      const out = corrupt(image, 'zigzag', 1, seed);
      // Lines are added: nothing gets darker; columns 0–1 (left of c0 = 2) are untouched; a line crosses most columns.
      expect(out.data.every((v, i) => v >= image.data[i])).toBe(true);
      let touched = 0;
      for (let x = 0; x < image.width; x++) {
        let any = false;
        for (let y = 0; y < image.height; y++) for (let k = 0; k < image.channels; k++) any ||= pixel(out, x, y, k) !== pixel(image, x, y, k);
        if (x < 2) expect(any).toBe(false);
        if (any) touched++;
      }
      expect(touched).toBeGreaterThan(image.width * 0.5);
    }
  },
  dotted_line() {
    for (const make of [gray, colour]) for (const seed of SEEDS) {
      const image = make(seed);
      const out = corrupt(image, 'dotted_line', 1, seed);
      expect(out.data.every((v, i) => v >= image.data[i])).toBe(true);
      // Dashes: columns 0–1, 4–5, 8–9 … are gaps and stay as they were.
      for (let x = 0; x < image.width; x++) if (Math.floor(x / 2) % 2 === 0) {
        for (let y = 0; y < image.height; y++) expect(pixel(out, x, y)).toBe(pixel(image, x, y));
      }
      expect(meanAbsDiff(out, image)).toBeGreaterThan(0);
    }
  },
  spatter() {
    for (const make of [gray, colour]) for (let s = 1; s <= 5; s++) {
      let changed = 0;
      for (const seed of SEEDS) {
        const image = make(seed);
        const out = corrupt(image, 'spatter', s, seed);
        // Mud is blended in: every pixel moves towards the mud colour, never away.
        const mud = [63, 42, 20];
        for (let i = 0; i < out.data.length; i++) {
          const m = image.channels === 1 ? 63 : mud[i % 3];
          expect(Math.abs(out.data[i] - m)).toBeLessThanOrEqual(Math.abs(image.data[i] - m) + 1);
          if (out.data[i] !== image.data[i]) changed++;
        }
      }
      expect(changed, `severity ${s}`).toBeGreaterThan(0);
    }
  },
  canny_edges() {
    for (const make of [gray, colour]) {
      const out = corrupt(make(7), 'canny_edges', 1, 0);
      expect(out.data.every((v) => v === 0 || v === 255)).toBe(true);
      const on = out.data.filter((v) => v === 255).length / out.data.length;
      expect(on).toBeGreaterThan(0.02);
      expect(on).toBeLessThan(0.4);
    }
    expect(corrupt(flatImage(180), 'canny_edges', 1, 0).data.every((v) => v === 0)).toBe(true);
    // A bright square on black: edges on its outline (within a pixel), none deep inside or far outside.
    const square = flatImage(0, 28, 28);
    for (let y = 8; y < 20; y++) for (let x = 8; x < 20; x++) square.data[y * 28 + x] = 255;
    const edges = corrupt(square, 'canny_edges', 1, 0);
    let onOutline = 0;
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
      const d = Math.max(Math.max(8 - x, x - 19, 8 - y, y - 19), -Math.min(x - 8, 19 - x, y - 8, 19 - y));
      if (pixel(edges, x, y) === 255) {
        expect(Math.abs(d)).toBeLessThanOrEqual(1);
        onOutline++;
      }
    }
    expect(onOutline).toBeGreaterThan(30); // the outline is 44 pixels round
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
        expect(changes[0]).toBeGreaterThan(0.1);
      }
    });
  }
});

describe('building blocks', () => {
  it('the defocus disk sums to 1 and is symmetric; a larger radius spreads wider', () => {
    for (const [r, a] of [[0.3, 0.4], [1, 0.2], [1.5, 0.1]]) {
      const { kernel, size } = diskKernel(r, a);
      expect(kernel.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 10);
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
        expect(kernel[y * size + x]).toBeCloseTo(kernel[x * size + y], 12);
        expect(kernel[y * size + x]).toBeCloseTo(kernel[(size - 1 - y) * size + (size - 1 - x)], 12);
      }
    }
    const centre = (r: number, a: number) => { const { kernel, size } = diskKernel(r, a); return kernel[((size - 1) / 2) * size + (size - 1) / 2]; };
    expect(centre(1.5, 0.1)).toBeLessThan(centre(1, 0.2));
    expect(centre(1, 0.2)).toBeLessThan(centre(0.3, 0.4));
  });

  it('the plasma fractal spans [0, 1] and is smooth: neighbours differ far less than independent values', () => {
    for (const decay of [1.4, 2]) {
      const p = plasmaFractal(32, decay, mulberry32(5));
      expect(Math.min(...p)).toBe(0);
      expect(Math.max(...p)).toBe(1);
      let d2 = 0, count = 0;
      for (let y = 0; y < 32; y++) for (let x = 0; x + 1 < 32; x++) { d2 += (p[y * 32 + x] - p[y * 32 + x + 1]) ** 2; count++; }
      // Independent uniforms on [0, 1]: E(a − b)² = 1/6.
      expect(d2 / count).toBeLessThan(1 / 6 / 4);
    }
    // A larger decay damps the fine levels faster: smoother.
    const rough = (decay: number) => {
      let s = 0;
      for (let seed = 1; seed <= 5; seed++) {
        const p = plasmaFractal(32, decay, mulberry32(seed));
        for (let i = 0; i + 1 < p.length; i++) if ((i + 1) % 32) s += (p[i] - p[i + 1]) ** 2;
      }
      return s;
    };
    expect(rough(3)).toBeLessThan(rough(1.4));
  });
});
