import { describe, expect, it } from 'vitest';
import { ImageError } from './errors.ts';
import { fromPixelArray } from './pixels.ts';
import { lumaOverBlack } from './color.ts';
import { toModelInput } from './preprocess.ts';
import { randomGray } from './testing.ts';

function message(json: unknown): string {
  try {
    fromPixelArray(json);
  } catch (err) {
    expect(err).toBeInstanceOf(ImageError);
    expect((err as ImageError).code).toBe('invalid_pixels');
    return (err as Error).message;
  }
  throw new Error('expected invalid_pixels, the body was accepted');
}

const g = randomGray(784, 1);
const flat = Array.from(g);
const rows = Array.from({ length: 28 }, (_, y) => flat.slice(y * 28, y * 28 + 28));

describe('fromPixelArray: accepted shapes', () => {
  it('reads a flat 784 array, 28 rows of 28 and a bare array alike', () => {
    for (const body of [{ pixels: flat }, { pixels: rows }, flat, rows, { pixels: flat, scale: '0-255' }]) {
      const img = fromPixelArray(body);
      expect(img).toMatchObject({ width: 28, height: 28, hadAlpha: false, format: 'pixels', scale: '0-255' });
      expect(img.gray).toEqual(g);
    }
  });

  it('reads 0-1 floats back to the exact uint8, including float32 model inputs', () => {
    const unit = flat.map((v) => v / 255);
    const f32 = Array.from(Float32Array.from(flat, (v) => v / 255));
    for (const body of [{ pixels: unit }, { pixels: f32, scale: '0-1' }]) {
      const img = fromPixelArray(body);
      expect(img.scale).toBe('0-1');
      expect(img.gray).toEqual(g);
    }
  });

  it('infers 0-1 only when every value is ≤ 1, and a declared scale wins', () => {
    expect(fromPixelArray({ pixels: new Array(784).fill(1) }).gray[0]).toBe(255);
    expect(fromPixelArray({ pixels: new Array(784).fill(1), scale: '0-255' }).gray[0]).toBe(1);
    expect(fromPixelArray({ pixels: [...new Array(783).fill(1), 2] }).scale).toBe('0-255');
  });

  it('takes other sizes with width and height, and resizes them like files', () => {
    const small = fromPixelArray({ pixels: new Array(14 * 7).fill(200), width: 14, height: 7 });
    expect([small.width, small.height]).toEqual([14, 7]);
    const nested = fromPixelArray({ pixels: Array.from({ length: 7 }, () => new Array(14).fill(200)) });
    expect(nested.gray).toEqual(small.gray);
    const out = toModelInput(small, { polarity: 'keep' });
    expect(out.steps).toMatchObject({ resample: 'bilinear', source: { width: 14, height: 7 } });
    expect(out.pixels[14 * 28 + 14]).toBe(200);
    expect(out.pixels[0]).toBe(0); // padding
  });
});

describe('fromPixelArray: colour', () => {
  const w = 5, h = 4;
  const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37 + 11) % 256);
  const flatRgb = Array.from(rgb);
  const nestedRgb = Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, x) => flatRgb.slice(3 * (y * w + x), 3 * (y * w + x) + 3)));

  it('reads [h][w][3] and a flat array with channels 3 alike, RGB kept and luminance as PIL', () => {
    for (const body of [{ pixels: nestedRgb }, { pixels: flatRgb, width: w, height: h, channels: 3 }, { pixels: nestedRgb, channels: 3, width: w, height: h }]) {
      const img = fromPixelArray(body, undefined, { color: true });
      expect([img.width, img.height]).toEqual([w, h]);
      expect(img.rgb).toEqual(rgb);
      expect(img.gray[0]).toBe(lumaOverBlack(rgb[0], rgb[1], rgb[2], 255));
      expect(img.gray[w * h - 1]).toBe(lumaOverBlack(rgb[3 * (w * h) - 3], rgb[3 * (w * h) - 2], rgb[3 * (w * h) - 1], 255));
    }
    // 0-1 floats too, back to the exact uint8.
    expect(fromPixelArray({ pixels: flatRgb.map((v) => v / 255), width: w, height: h, channels: 3 }, undefined, { color: true }).rgb).toEqual(rgb);
  });

  it('gives only the luminance unless asked for colour (grayscale runs), and [h][w][1] is grayscale', () => {
    const img = fromPixelArray({ pixels: nestedRgb });
    expect(img.rgb).toBeUndefined();
    expect(img.gray).toEqual(fromPixelArray({ pixels: nestedRgb }, undefined, { color: true }).gray);
    const one = fromPixelArray({ pixels: nestedRgb.map((r) => r.map((p) => [p[0]])) }, undefined, { color: true });
    expect(one.rgb).toBeUndefined();
    expect(Array.from(one.gray)).toEqual(flatRgb.filter((_, i) => i % 3 === 0));
  });

  it('refuses mixed or wrong colour shapes, naming the place', () => {
    expect(message({ pixels: flatRgb, width: w, height: h, channels: 2 })).toBe('channels must be 1 or 3, got 2');
    expect(message({ pixels: flatRgb, width: w, height: h })).toBe(`pixels has ${w * h * 3} values; width × height is ${w}×${h} = ${w * h}`);
    expect(message({ pixels: flatRgb.slice(1), width: w, height: h, channels: 3 })).toBe(`pixels has ${w * h * 3 - 1} values; width × height × channels is ${w}×${h}×3 = ${w * h * 3}`);
    expect(message({ pixels: [[[1, 2]]] })).toBe('pixels[0][0] has 2 values; a pixel is [v] (grayscale) or [r, g, b]');
    expect(message({ pixels: [[[1, 2, 3], [4, 5]]] })).toBe('pixels[0][1] has 2 values; pixels[0][0] has 3');
    expect(message({ pixels: [[[1, 2, 3], 4]] })).toMatch(/^pixels\[0\]\[1\] is 4, but pixels\[0\]\[0\] is a pixel array/);
    expect(message({ pixels: [[1, 2]], channels: 3 })).toMatch(/^pixels holds rows of numbers \(grayscale\), but channels is 3/);
    expect(message({ pixels: [[[1, 2, 3]]], channels: 1 })).toBe('pixels holds 3-value pixels, but channels is 1');
    expect(message({ pixels: [[[1, 2, 300]]] })).toMatch(/^pixels\[0\]\[0\]\[2\] is 300;/);
    expect(message({ pixels: [[[1, 'x', 3]]] })).toBe('pixels[0][0][1] is "x"; expected a number');
  });
});

describe('fromPixelArray: refusals name the problem', () => {
  it('wrong body types and fields', () => {
    expect(message('abc')).toMatch(/expected a JSON object .* got "abc"/);
    expect(message(null)).toMatch(/got null/);
    expect(message({ pixels: flat, sclae: '0-1' })).toBe('unknown field "sclae"; the fields are pixels, width, height, channels, scale');
    expect(message({ image: flat })).toMatch(/unknown field "image"/);
    expect(message({})).toBe('pixels must be an array (flat, or one array per row), got nothing');
    expect(message({ pixels: [] })).toBe('pixels is empty');
    expect(message({ pixels: flat, scale: 255 })).toBe('scale must be "0-255" or "0-1", got 255');
  });

  it('wrong shapes', () => {
    expect(message({ pixels: flat.slice(1) })).toBe('pixels has 783 values; a flat array must hold 784 (28×28), or give width and height');
    expect(message({ pixels: flat, width: 28 })).toBe('give both width and height, or neither');
    expect(message({ pixels: flat, width: 20, height: 20 })).toBe('pixels has 784 values; width × height is 20×20 = 400');
    expect(message({ pixels: flat, width: 0, height: 784 })).toBe('width must be a positive integer, got 0');
    expect(message({ pixels: [rows[0], rows[1].slice(1)] })).toBe('pixels[1] has 27 values; pixels[0] has 28');
    expect(message({ pixels: [rows[0], 5] })).toMatch(/pixels\[1\] is 5, but pixels\[0\] is a row/);
    expect(message({ pixels: rows, width: 14, height: 56 })).toBe('pixels has 28 rows of 28, but width × height is 14×56');
  });

  it('wrong values', () => {
    const bad = (i: number, v: unknown) => flat.map((x, k) => (k === i ? v : x));
    expect(message({ pixels: bad(5, '12') })).toBe('pixels[5] is "12"; expected a number');
    expect(message({ pixels: bad(5, null) })).toBe('pixels[5] is null; expected a number');
    expect(message({ pixels: bad(5, -1) })).toBe('pixels[5] is -1; pixel values cannot be negative');
    expect(message({ pixels: bad(5, 300) })).toBe('pixels[5] is 300; with scale "0-255" (values above 1 mean scale "0-255") values must be integers 0..255');
    expect(message({ pixels: bad(5, 12.5), scale: '0-255' })).toBe('pixels[5] is 12.5; with scale "0-255" values must be integers 0..255');
    const unit = flat.map((v, k) => (k === 5 ? 1.5 : v / 255));
    expect(message({ pixels: unit, scale: '0-1' })).toBe('pixels[5] is 1.5; with scale "0-1" values must be in [0, 1]');
    const nestedBad = rows.map((r, y) => (y === 3 ? r.map((v, x) => (x === 7 ? 256 : v)) : r));
    expect(message({ pixels: nestedBad })).toMatch(/^pixels\[3\]\[7\] is 256;/);
  });

  it('applies the image size limits', () => {
    expect(() => fromPixelArray({ pixels: new Array(100).fill(0), width: 100, height: 1 }, { maxWidth: 64 }))
      .toThrow('pixel array is 100×1 pixels; the limit is 64×4096');
  });
});
