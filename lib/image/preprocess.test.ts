import { describe, expect, it } from 'vitest';
import { PIXEL_SCALE } from '../model/types.ts';
import { borderMean, toModelInput } from './preprocess.ts';
import { randomGray } from './testing.ts';
import type { DecodedImage } from './types.ts';

function image(width: number, height: number, at: (x: number, y: number) => number): DecodedImage {
  const gray = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) gray[y * width + x] = at(x, y);
  return { width, height, gray, hadAlpha: false, format: 'pixels' };
}

function fromGray(width: number, height: number, gray: Uint8Array): DecodedImage {
  return { width, height, gray, hadAlpha: false, format: 'pixels' };
}

/**
 * Reference area average, computed independently of the separable code: every source pixel's
 * 2-D overlap with every target pixel, in units of 1/28 source pixel, of a black-padded square.
 */
function areaReference(img: DecodedImage): Uint8Array {
  const S = Math.max(img.width, img.height);
  const left = (S - img.width) >> 1, top = (S - img.height) >> 1;
  const overlap = (i: number, j: number) => Math.max(0, Math.min((i + 1) * S, (j + 1) * 28) - Math.max(i * S, j * 28));
  const out = new Uint8Array(784);
  for (let ty = 0; ty < 28; ty++) {
    for (let tx = 0; tx < 28; tx++) {
      let s = 0;
      for (let y = 0; y < img.height; y++) {
        const wy = overlap(ty, y + top);
        if (wy === 0) continue;
        for (let x = 0; x < img.width; x++) s += wy * overlap(tx, x + left) * img.gray[y * img.width + x];
      }
      out[ty * 28 + tx] = Math.floor((2 * s + S * S) / (2 * S * S));
    }
  }
  return out;
}

describe('toModelInput: resizing', () => {
  it('passes a 28×28 image through untouched', () => {
    const g = randomGray(784, 1);
    g.fill(0, 0, 28); // a dark top row keeps the border mean under 128 for this seed
    const out = toModelInput(fromGray(28, 28, g));
    expect(out.pixels).toEqual(g);
    expect(out.steps).toMatchObject({ resample: 'none', inverted: false, padding: { top: 0, right: 0, bottom: 0, left: 0 } });
  });

  it('downscales 56×56 made of 2×2 blocks to exactly the block values', () => {
    const blocks = randomGray(784, 2);
    blocks.fill(0, 0, 28);
    const out = toModelInput(image(56, 56, (x, y) => blocks[(y >> 1) * 28 + (x >> 1)]));
    expect(out.pixels).toEqual(blocks);
    expect(out.steps.resample).toBe('area');
  });

  it('area-averages non-integer ratios exactly, partial pixels weighted by coverage', () => {
    for (const [w, h, seed] of [[29, 29, 3], [37, 30, 4], [45, 61, 5], [100, 3, 6], [85, 85, 7]]) {
      const img = fromGray(w, h, randomGray(w * h, seed));
      expect(toModelInput(img, { polarity: 'keep' }).pixels, `${w}×${h}`).toEqual(areaReference(img));
    }
  });

  it('pads a 28×14 image to a square with black, centred', () => {
    const g = randomGray(28 * 14, 8);
    const out = toModelInput(fromGray(28, 14, g), { polarity: 'keep' });
    expect(out.steps).toMatchObject({ resample: 'pad', padding: { top: 7, right: 0, bottom: 7, left: 0 } });
    expect(out.pixels.subarray(0, 7 * 28).every((v) => v === 0)).toBe(true);
    expect(out.pixels.subarray(7 * 28, 21 * 28)).toEqual(g);
    expect(out.pixels.subarray(21 * 28).every((v) => v === 0)).toBe(true);
    // An odd margin gives the extra row to the bottom (or right).
    expect(toModelInput(fromGray(13, 28, randomGray(13 * 28, 9))).steps.padding).toEqual({ top: 0, right: 8, bottom: 0, left: 7 });
  });

  it('upscales a constant 14×14 to the same constant, and a ramp bilinearly', () => {
    const flat = toModelInput(image(14, 14, () => 93));
    expect(flat.steps.resample).toBe('bilinear');
    expect(flat.pixels.every((v) => v === 93)).toBe(true);
    // Ramp v = 10x: target column i samples x = (i + 0.5)/2 − 0.5, clamped to [0, 13].
    const ramp = toModelInput(image(14, 14, (x) => 10 * x));
    for (let i = 0; i < 28; i++) {
      const x = Math.min(Math.max((i + 0.5) / 2 - 0.5, 0), 13);
      expect(ramp.pixels[5 * 28 + i], `column ${i}`).toBe(Math.round(10 * x));
    }
  });

  it('resizes to another target size when asked', () => {
    const out = toModelInput(image(28, 28, (x, y) => (x < 14 && y < 14 ? 0 : 200)), { width: 14, height: 14, polarity: 'keep' });
    expect(out.pixels).toHaveLength(196);
    expect(out.pixels[0]).toBe(0);
    expect(out.pixels[195]).toBe(200);
    expect(out.steps.target).toEqual({ width: 14, height: 14, channels: 1 });
  });

  it('gives input = pixels · (1/255) in float32, as the trainer computes it', () => {
    const out = toModelInput(image(28, 28, (x, y) => (x * 9 + y * 28) % 256), { polarity: 'keep' });
    for (let i = 0; i < 784; i++) expect(out.input[i]).toBe(Math.fround(out.pixels[i] * PIXEL_SCALE));
    expect(out.input[0]).toBe(0);
  });
});

describe('toModelInput: polarity', () => {
  /** A dark T-shirt-like block on a white page. */
  const darkOnWhite = image(84, 84, (x, y) => (x >= 20 && x < 64 && y >= 10 && y < 74 ? 30 : 250));

  it('inverts a dark object on a light background (auto)', () => {
    const out = toModelInput(darkOnWhite);
    expect(out.steps.inverted).toBe(true);
    expect(out.steps.borderMean).toBe(250);
    expect(out.pixels[0]).toBe(5); // 255 − 250
    expect(out.pixels[14 * 28 + 14]).toBe(225); // 255 − 30
  });

  it('keeps the image as it is with polarity keep, and inverts anything with invert', () => {
    expect(toModelInput(darkOnWhite, { polarity: 'keep' }).pixels[0]).toBe(250);
    const dark = image(28, 28, () => 10);
    expect(toModelInput(dark).steps.inverted).toBe(false);
    expect(toModelInput(dark, { polarity: 'invert' }).pixels[0]).toBe(245);
  });

  it('pads an inverted image with black, after inverting', () => {
    const wide = image(56, 28, (x, y) => (x >= 20 && x < 36 && y >= 6 && y < 22 ? 0 : 255));
    const out = toModelInput(wide);
    expect(out.steps.inverted).toBe(true);
    expect(Array.from(out.pixels.subarray(0, 28))).toEqual(new Array(28).fill(0)); // padding row
    expect(out.pixels[14 * 28 + 14]).toBe(255); // the object, now light
  });

  it('inverts an all-white 28×28 image under auto (its border is white) and keeps it under keep', () => {
    const white = image(28, 28, () => 255);
    expect(toModelInput(white).pixels.every((v) => v === 0)).toBe(true);
    expect(toModelInput(white, { polarity: 'keep' }).pixels.every((v) => v === 255)).toBe(true);
  });

  it('decides on a border mean above 127, not at it', () => {
    expect(toModelInput(image(28, 28, () => 127)).steps.inverted).toBe(false);
    expect(toModelInput(image(28, 28, () => 128)).steps.inverted).toBe(true);
  });

  it('measures the outermost ring, whatever the shape', () => {
    expect(borderMean(Uint8Array.from([1, 2, 3, 4, 100, 6, 7, 8, 9]), 3, 3)).toBe(5);
    expect(borderMean(Uint8Array.from([10, 20, 30]), 3, 1)).toBe(20);
    expect(borderMean(Uint8Array.from([10, 20, 30]), 1, 3)).toBe(20);
  });
});

describe('toModelInput: alpha and checks', () => {
  it('reports alpha compositing done by the decoder', () => {
    const out = toModelInput({ ...image(28, 28, () => 0), hadAlpha: true });
    expect(out.steps.alphaComposited).toBe(true);
  });

  it('refuses an image whose pixel count does not match its size, and an unknown polarity', () => {
    expect(() => toModelInput(fromGray(28, 28, new Uint8Array(10)))).toThrow(RangeError);
    // @ts-expect-error -- a value from outside the type
    expect(() => toModelInput(image(2, 2, () => 0), { polarity: 'flip' })).toThrow(/polarity must be one of auto, keep, invert/);
  });
});
