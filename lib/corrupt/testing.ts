/** Seeded test images and measures for the corruption tests and the benchmark. */
import { mulberry32 } from '../random.ts';
import type { ImageU8 } from './image.ts';

/**
 * A Fashion-MNIST-like picture: a bright garment-ish blob with some texture on black, or (colour)
 * the same over a coloured gradient background. Values span 0..255 with few exact extremes.
 */
export function sampleImage(seed: number, width = 28, height = 28, channels: 1 | 3 = 1): ImageU8 {
  const rand = mulberry32(seed);
  const cx = width * (0.4 + 0.2 * rand()), cy = height * (0.4 + 0.2 * rand());
  const rx = width * (0.22 + 0.1 * rand()), ry = height * (0.28 + 0.1 * rand());
  const base = 150 + 60 * rand();
  const freq = 0.5 + rand();
  const tint = [rand(), rand(), rand()];
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const r = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
      const inside = r < 1 ? base * (1 - 0.3 * r) + 25 * Math.sin(freq * x + 0.7 * y) : 0;
      for (let k = 0; k < channels; k++) {
        const bg = channels === 3 ? 40 + 60 * tint[k] * (x / width) + 30 * (y / height) : 0;
        const v = inside > 0 ? inside * (channels === 3 ? 0.6 + 0.4 * tint[(k + 1) % 3] : 1) : bg;
        data[(y * width + x) * channels + k] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { data, width, height, channels };
}

export function flatImage(value: number, width = 28, height = 28, channels: 1 | 3 = 1): ImageU8 {
  return { data: new Uint8Array(width * height * channels).fill(value), width, height, channels };
}

export function mean(image: ImageU8): number {
  let s = 0;
  for (const v of image.data) s += v;
  return s / image.data.length;
}

export function std(image: ImageU8): number {
  const m = mean(image);
  let s = 0;
  for (const v of image.data) s += (v - m) ** 2;
  return Math.sqrt(s / image.data.length);
}

/** Mean absolute difference per element. */
export function meanAbsDiff(a: ImageU8, b: ImageU8): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += Math.abs(a.data[i] - b.data[i]);
  return s / a.data.length;
}

/** High-frequency energy: the sum of squared differences between horizontal and vertical neighbours. */
export function neighbourEnergy(image: ImageU8): number {
  const { width: w, height: h, channels: ch, data } = image;
  let s = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < ch; k++) {
        const v = data[(y * w + x) * ch + k];
        if (x + 1 < w) s += (v - data[(y * w + x + 1) * ch + k]) ** 2;
        if (y + 1 < h) s += (v - data[((y + 1) * w + x) * ch + k]) ** 2;
      }
    }
  }
  return s;
}

export function pixel(image: ImageU8, x: number, y: number, k = 0): number {
  return image.data[(y * image.width + x) * image.channels + k];
}
