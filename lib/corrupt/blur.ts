/** Blurs: defocus (disk kernel), glass (local pixel shuffling between two gaussian blurs), motion. */
import { convolve1d, filter2d, gaussianBlur } from './filters.ts';
import { type CorruptFn, fromUnit, type ImageU8, randint, toUnit, withData } from './image.ts';

/**
 * The reference's `disk(radius, alias_blur)`: the indicator of x² + y² ≤ r² on a 17×17 grid
 * (−8..8; −r..r past 8), normalised to sum 1, then smoothed by cv2.GaussianBlur with a 3×3 (5×5
 * past 8) kernel of σ = alias_blur. Returned cropped to its nonzero taps. [size × size] row-major.
 */
export function diskKernel(radius: number, aliasBlur: number): { kernel: Float64Array; size: number } {
  const half = radius <= 8 ? 8 : Math.floor(radius);
  const n = 2 * half + 1;
  const disk = new Float64Array(n * n);
  let sum = 0;
  for (let y = -half; y <= half; y++) for (let x = -half; x <= half; x++) {
    if (x * x + y * y <= radius * radius) { disk[(y + half) * n + x + half] = 1; sum++; }
  }
  for (let i = 0; i < disk.length; i++) disk[i] /= sum;
  const ks = radius <= 8 ? 3 : 5;
  const g = new Float64Array(ks);
  let gs = 0;
  for (let i = 0; i < ks; i++) gs += g[i] = Math.exp(-((i - (ks - 1) / 2) ** 2) / (2 * aliasBlur * aliasBlur));
  for (let i = 0; i < ks; i++) g[i] /= gs;
  const smooth = convolve1d(convolve1d(disk, n, n, 1, g, 'y', 'reflect101'), n, n, 1, g, 'x', 'reflect101');
  // Crop to the taps that are not zero (the disk sits far from the grid's edge).
  let lo = half;
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if (smooth[y * n + x] > 0) lo = Math.min(lo, x, y);
  const size = n - 2 * lo;
  const kernel = new Float64Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) kernel[y * size + x] = smooth[(y + lo) * n + x + lo];
  return { kernel, size };
}

/**
 * defocus_blur — x' = clip(x ⊛ disk(r, alias_blur)) per channel, cv2.filter2D with reflect-101
 * borders. Hendrycks & Dietterich 2019, CIFAR-10-C table (make_cifar_c.py): (r, alias_blur) =
 * [(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)]. (MNIST-C's code has radii 3–10,
 * which wipe out a 28×28 digit, and leaves defocus out of its dataset.)
 */
export const DEFOCUS_BLUR: readonly (readonly [number, number])[] = [[0.3, 0.4], [0.4, 0.5], [0.5, 0.6], [1, 0.2], [1.5, 0.1]];
const disks = DEFOCUS_BLUR.map(([r, a]) => diskKernel(r, a));
export const defocusBlur: CorruptFn = (image, severity) => {
  const { kernel, size } = disks[severity - 1];
  return fromUnit(filter2d(toUnit(image), image.width, image.height, image.channels, kernel, size, size), image);
};

/**
 * glass_blur — gaussian blur (σ), truncate to bytes, then `iterations` sweeps from the bottom-right
 * inwards that, at each pixel, with probability ½ swap it with the pixel (dx, dy) away, dx, dy
 * uniform in [−δ, δ); then the gaussian blur again. Mu & Gilmer 2019, MNIST-C corruptions.py:
 * (σ, δ, iterations) = [(0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)] (the dataset
 * uses severity 1). The sweep covers rows and columns δ+1 … size−δ, as the reference's
 * `range(28 - δ, δ, -1)` does for 28. For colour we swap whole pixels; the reference's numpy
 * swap of two views would copy one over the other instead.
 */
export const GLASS_BLUR: readonly (readonly [number, number, number])[] = [[0.7, 1, 2], [0.9, 2, 1], [1, 2, 3], [1.1, 3, 2], [1.5, 4, 2]];
export const glassBlur: CorruptFn = (image, severity, rand) => {
  const [sigma, delta, iterations] = GLASS_BLUR[severity - 1];
  const { width: w, height: h, channels: ch } = image;
  const blurred = gaussianBlur(toUnit(image), w, h, ch, sigma);
  const x = new Uint8Array(blurred.length);
  for (let i = 0; i < x.length; i++) x[i] = Math.max(0, Math.min(255, Math.floor(blurred[i] * 255)));
  for (let it = 0; it < iterations; it++) {
    for (let yy = h - delta; yy > delta; yy--) {
      for (let xx = w - delta; xx > delta; xx--) {
        if (rand() < 0.5) continue;
        const dx = randint(rand, -delta, delta), dy = randint(rand, -delta, delta);
        const a = (yy * w + xx) * ch, b = ((yy + dy) * w + xx + dx) * ch;
        for (let k = 0; k < ch; k++) { const t = x[a + k]; x[a + k] = x[b + k]; x[b + k] = t; }
      }
    }
  }
  return fromUnit(gaussianBlur(toUnit(withData(image, x)), w, h, ch, sigma), image);
};

/**
 * motion_blur — ImageMagick's MotionBlurImage(radius, σ, angle), which the reference calls via
 * Wand: a one-sided kernel of 2·⌈radius⌉+1 taps with weights e^(−i²/2σ²) (normalised), tap i at
 * offset (⌈i·cos θ − ½⌉, ⌈i·sin θ − ½⌉), edge pixels repeated outside; θ uniform in [−45°, 45°).
 * Mu & Gilmer 2019, MNIST-C corruptions.py: (radius, σ) = [(10, 3), (15, 5), (15, 8), (15, 12),
 * (20, 15)] (the dataset uses severity 1).
 */
export const MOTION_BLUR: readonly (readonly [number, number])[] = [[10, 3], [15, 5], [15, 8], [15, 12], [20, 15]];
export const motionBlur: CorruptFn = (image, severity, rand) => {
  const [radius, sigma] = MOTION_BLUR[severity - 1];
  const angle = ((rand() * 90 - 45) * Math.PI) / 180;
  return motionBlurImage(image, radius, sigma, angle);
};

/** `angle` in radians: 0 smears towards +x (right), π/2 towards +y (down). */
export function motionBlurImage(image: ImageU8, radius: number, sigma: number, angle: number): ImageU8 {
  const { width: w, height: h, channels: ch, data } = image;
  const taps = 2 * Math.ceil(radius) + 1;
  const weight = new Float64Array(taps);
  let s = 0;
  for (let i = 0; i < taps; i++) s += weight[i] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < taps; i++) weight[i] /= s;
  const ox = new Int32Array(taps), oy = new Int32Array(taps);
  for (let i = 0; i < taps; i++) {
    ox[i] = Math.ceil(i * Math.cos(angle) - 0.5);
    oy[i] = Math.ceil(i * Math.sin(angle) - 0.5);
  }
  // Edge-clamped source column and row of every tap, per column and per row.
  const xs = new Int32Array(w * taps), ys = new Int32Array(h * taps);
  for (let x = 0; x < w; x++) for (let i = 0; i < taps; i++) xs[x * taps + i] = Math.min(w - 1, Math.max(0, x + ox[i]));
  for (let y = 0; y < h; y++) for (let i = 0; i < taps; i++) ys[y * taps + i] = Math.min(h - 1, Math.max(0, y + oy[i])) * w;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < ch; k++) {
        let v = 0;
        for (let i = 0; i < taps; i++) v += weight[i] * data[(ys[y * taps + i] + xs[x * taps + i]) * ch + k];
        out[(y * w + x) * ch + k] = Math.min(255, Math.round(v));
      }
    }
  }
  return withData(image, out);
}
