import { existsSync } from 'node:fs';
import { encode as encodeJpeg } from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { PIXEL_SCALE } from '../../lib/model/types.ts';
import { FASHION_MNIST_DIR, loadDataset } from '../../trainer/data.ts';
import { decodeImage } from '../../api/image/decode.ts';
import { encodePng } from '../../api/image/encode.ts';
import { toModelInput, type Polarity } from '../../api/image/preprocess.ts';
import { pngOf, randomGray } from '../../api/image/testing.ts';

/** Seeded 28×28 images: random (dark border, as in the dataset), all black, all white, a gradient. */
function cases(): { name: string; gray: Uint8Array; polarity: Polarity }[] {
  const out: { name: string; gray: Uint8Array; polarity: Polarity }[] = [];
  for (let seed = 1; seed <= 6; seed++) {
    const g = randomGray(784, seed);
    for (let i = 0; i < 784; i++) {
      const x = i % 28, y = (i / 28) | 0;
      if (x === 0 || y === 0 || x === 27 || y === 27) g[i] >>= 2;
    }
    out.push({ name: `random ${seed}`, gray: g, polarity: 'auto' });
  }
  out.push({ name: 'all black', gray: new Uint8Array(784), polarity: 'auto' });
  // All white has a white border, which auto would invert: the round trip is for polarity keep.
  out.push({ name: 'all white', gray: new Uint8Array(784).fill(255), polarity: 'keep' });
  out.push({ name: 'gradient', gray: Uint8Array.from({ length: 784 }, (_, i) => i % 256), polarity: 'keep' });
  return out;
}

function roundTrip(file: Uint8Array, polarity: Polarity): Uint8Array {
  const out = toModelInput(decodeImage(file), { polarity });
  expect(out.steps).toMatchObject({ resample: 'none', inverted: false, alphaComposited: false });
  expect(out.input).toEqual(Float32Array.from(out.pixels, (v) => v * PIXEL_SCALE));
  return out.pixels;
}

describe('PNG round trip of 28×28 images: bit-identical pixels', () => {
  it('through our own 8-bit grey encoder', () => {
    for (const { name, gray, polarity } of cases()) expect(roundTrip(encodePng(gray, 28, 28), polarity), name).toEqual(gray);
  });

  it('through RGB, RGBA, 16-bit grey, 16-bit RGBA, palette and interlaced files', () => {
    for (const { name, gray, polarity } of cases()) {
      const rgb = new Uint8Array(784 * 3), rgba = new Uint8Array(784 * 4), g16 = new Uint16Array(784), rgba16 = new Uint16Array(784 * 4);
      gray.forEach((v, i) => {
        rgb.fill(v, 3 * i, 3 * i + 3);
        rgba.fill(v, 4 * i, 4 * i + 3);
        rgba[4 * i + 3] = 255;
        g16[i] = v * 257;
        rgba16.fill(v * 257, 4 * i, 4 * i + 3);
        rgba16[4 * i + 3] = 65535;
      });
      const palette = Array.from({ length: 256 }, (_, v) => [v, v, v]);
      const files = {
        rgb: pngOf({ width: 28, height: 28, data: rgb, channels: 3, depth: 8 }),
        rgba: pngOf({ width: 28, height: 28, data: rgba, channels: 4, depth: 8 }),
        gray16: pngOf({ width: 28, height: 28, data: g16, channels: 1, depth: 16 }),
        rgba16: pngOf({ width: 28, height: 28, data: rgba16, channels: 4, depth: 16 }),
        palette: pngOf({ width: 28, height: 28, data: gray, channels: 1, depth: 8, palette }),
        interlaced: pngOf({ width: 28, height: 28, data: gray, channels: 1, depth: 8 }, 'Adam7'),
      };
      for (const [kind, file] of Object.entries(files)) expect(roundTrip(file, polarity), `${name} as ${kind}`).toEqual(gray);
    }
  });
});

describe('Fashion-MNIST test images', () => {
  it('are never inverted by auto polarity, and come back bit-identical through PNG', () => {
    // Required like everywhere else in the suite: a missing dataset is a failure, not a skip.
    if (!existsSync(FASHION_MNIST_DIR)) {
      throw new Error(`Fashion-MNIST is not installed at ${FASHION_MNIST_DIR}: run scripts/setup.sh (it installs the Debian package dataset-fashion-mnist)`);
    }
    const { images, n } = loadDataset({ kind: 'idx', name: 'fashion-mnist', dir: FASHION_MNIST_DIR, trainLimit: 1 }).test;
    for (let k = 0; k < n; k++) {
      const gray = Uint8Array.from(images.subarray(k * 784, (k + 1) * 784));
      const img = { width: 28, height: 28, gray, hadAlpha: false, format: 'pixels' as const };
      if (toModelInput(img).steps.inverted) throw new Error(`test image ${k} was inverted`);
      if (k % 10 === 0) expect(roundTrip(encodePng(gray, 28, 28), 'auto'), `image ${k}`).toEqual(gray);
    }
  }, 180_000); // all 10 000 test images
});

describe('JPEG upload', () => {
  it('a 56×56 JPEG of a light rectangle on black comes out close to the rectangle at 28×28', () => {
    // Rectangle x 16..39, y 8..47 in the 56×56 → x 8..19, y 4..23 at 28×28 (whole 2×2 blocks).
    const rgba = new Uint8Array(56 * 56 * 4);
    for (let y = 0; y < 56; y++) {
      for (let x = 0; x < 56; x++) {
        const v = x >= 16 && x < 40 && y >= 8 && y < 48 ? 220 : 0;
        rgba.set([v, v, v, 255], 4 * (y * 56 + x));
      }
    }
    const jpeg = new Uint8Array(encodeJpeg({ width: 56, height: 56, data: rgba }, 90).data);
    const out = toModelInput(decodeImage(jpeg));
    expect(out.steps).toMatchObject({ resample: 'area', inverted: false, source: { width: 56, height: 56 } });
    let worst = 0;
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const expected = x >= 8 && x < 20 && y >= 4 && y < 24 ? 220 : 0;
        worst = Math.max(worst, Math.abs(out.pixels[y * 28 + x] - expected));
      }
    }
    expect(worst).toBeLessThanOrEqual(12);
  });
});
