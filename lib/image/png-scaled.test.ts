/**
 * Large PNGs decode at 1/8 scale, row-streamed (png-scaled.ts): each output pixel is exactly the
 * rounded mean of its 8×8 block of the full-size decode, through every row filter, bit depth,
 * palette and transparency; a 12-megapixel PNG passes a Worker's 48 MiB decoder limit.
 */
import { zlibSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { decodeImage } from './decode.ts';
import { decodePng, pngDecodeMemory, readPngHeader } from './png.ts';
import { concat, crc32, ihdr, pngChunk, PNG_SIGNATURE } from './testing.ts';
import { resolveLimits } from './types.ts';

const WORKER_LIMITS = { maxDecodeMemory: 48 * 1024 * 1024 };

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** A PNG of raw rows (each `stride` bytes), row y filtered with type y mod 5; `extra` chunks before IDAT. */
function filteredPng(w: number, h: number, depth: number, colorType: number, bpp: number, stride: number, rowOf: (y: number) => Uint8Array, extra: Uint8Array[] = []): Uint8Array {
  const raw = new Uint8Array(h * (1 + stride));
  let prev: Uint8Array = new Uint8Array(stride);
  for (let y = 0; y < h; y++) {
    const cur = rowOf(y), f = y % 5, at = y * (1 + stride);
    raw[at] = f;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : paeth(a, b, c);
      raw[at + 1 + i] = (cur[i] - pred) & 255;
    }
    prev = cur;
  }
  return concat(PNG_SIGNATURE, ihdr(w, h, depth, colorType), ...extra, chunk('IDAT', zlibSync(raw, { level: 6 })), pngChunk('IEND'));
}

/** Rounded-half-up means of each 8×8 block of a [h × w × c] plane. */
function blockMeans(px: Uint8Array, w: number, h: number, c: number): Uint8Array {
  const W = Math.ceil(w / 8), H = Math.ceil(h / 8);
  const sum = new Float64Array(W * H * c), n = new Float64Array(W * H);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const b = (y >> 3) * W + (x >> 3);
    n[b]++;
    for (let k = 0; k < c; k++) sum[c * b + k] += px[c * (y * w + x) + k];
  }
  return Uint8Array.from(sum, (s, i) => Math.floor((2 * s + n[(i / c) | 0]) / (2 * n[(i / c) | 0])));
}

const pattern = (x: number, y: number, k: number) => ((x * (3 + k) + y * (7 - k) + ((x * y) >> 6)) >> 2) & 255;

const CASES: { name: string; png: () => Uint8Array; w: number; h: number; color: boolean }[] = [
  {
    name: '8-bit RGB, every filter', w: 1700, h: 1300, color: true,
    png: () => filteredPng(1700, 1300, 8, 2, 3, 1700 * 3, (y) => Uint8Array.from({ length: 1700 * 3 }, (_, i) => pattern((i / 3) | 0, y, i % 3))),
  },
  {
    name: '16-bit RGBA, partly transparent', w: 1100, h: 900, color: true,
    png: () => filteredPng(1100, 900, 16, 6, 8, 1100 * 8, (y) => Uint8Array.from({ length: 1100 * 8 }, (_, i) => {
      const x = (i / 8) | 0, k = ((i % 8) / 2) | 0;
      return k === 3 ? (x < 300 ? 128 : 255) : pattern(x, y, k + (i & 1));
    })),
  },
  {
    name: '4-bit palette with tRNS', w: 4000, h: 3000, color: true,
    png: () => filteredPng(4000, 3000, 4, 3, 1, 2000, (y) => Uint8Array.from({ length: 2000 }, (_, i) => ((((2 * i + (y >> 4)) >> 5) & 15) << 4) | (((2 * i + 1 + (y >> 4)) >> 5) & 15)),
      [pngChunk('PLTE', Array.from({ length: 48 }, (_, i) => (i * 37) & 255)), pngChunk('tRNS', [255, 0, 128, 255, 60])]),
  },
  {
    name: '8-bit grey with a tRNS key', w: 2500, h: 2500, color: false,
    png: () => filteredPng(2500, 2500, 8, 0, 1, 2500, (y) => Uint8Array.from({ length: 2500 }, (_, x) => pattern(x, y, 1)), [pngChunk('tRNS', [0, 77])]),
  },
];

describe('PNG decoding at 1/8 scale, row-streamed', () => {
  for (const c of CASES) {
    it(`${c.name}: each pixel the rounded mean of its 8×8 block of the full decode`, () => {
      const png = c.png();
      expect(readPngHeader(png).interlaced).toBe(false);
      const full = decodePng(png, resolveLimits(), c.color, 1);
      const small = decodeImage(png, 'image/png', WORKER_LIMITS, { color: c.color });
      expect([small.width, small.height, small.dctScale]).toEqual([Math.ceil(c.w / 8), Math.ceil(c.h / 8), 8]);
      expect(small.hadAlpha).toBe(full.hadAlpha);
      expect(small.gray).toEqual(blockMeans(full.gray, c.w, c.h, 1));
      if (c.color) expect(small.rgb).toEqual(blockMeans(full.rgb!, c.w, c.h, 3));
      else expect(small.rgb).toBeUndefined();
    });
  }

  it('accepts a 12-megapixel RGB PNG under the Workers decoder-memory limit (its full decode needs ~190 MB)', () => {
    // Smooth, as photos saved as PNG are: within the 8 MiB body limit.
    const png = filteredPng(4000, 3000, 8, 2, 3, 12000, (y) => Uint8Array.from({ length: 12000 }, (_, i) => (((i / 3) >> 4) + (y >> 4) * (1 + (i % 3))) & 255));
    expect(png.length).toBeLessThan(8 * 1024 * 1024);
    expect(pngDecodeMemory(readPngHeader(png), png.length)).toBeGreaterThan(3 * WORKER_LIMITS.maxDecodeMemory);
    const img = decodeImage(png, 'image/png', WORKER_LIMITS, { color: true });
    expect([img.width, img.height, img.dctScale]).toEqual([500, 375, 8]);
  });

  it('keeps a dataset-size PNG at full size', () => {
    const png = filteredPng(64, 48, 8, 2, 3, 192, (y) => Uint8Array.from({ length: 192 }, (_, i) => pattern((i / 3) | 0, y, i % 3)));
    const img = decodeImage(png, 'image/png', WORKER_LIMITS, { color: true });
    expect([img.width, img.height, img.dctScale]).toEqual([64, 48, undefined]);
  });

  it('refuses a truncated stream and an unknown filter type', () => {
    const w = 2000, h = 2000;
    const rows = (y: number) => Uint8Array.from({ length: w * 3 }, (_, i) => pattern((i / 3) | 0, y, i % 3));
    const good = filteredPng(w, h, 8, 2, 3, w * 3, rows);
    const short = concat(PNG_SIGNATURE, ihdr(w, h, 8, 2), chunk('IDAT', zlibSync(new Uint8Array(100 * (1 + w * 3)))), pngChunk('IEND'));
    expect(() => decodeImage(short, 'image/png', WORKER_LIMITS)).toThrow(/truncated/);
    const raw = new Uint8Array(h * (1 + w * 3));
    raw[(1 + w * 3) * 5] = 9;
    const badFilter = concat(PNG_SIGNATURE, ihdr(w, h, 8, 2), chunk('IDAT', zlibSync(raw)), pngChunk('IEND'));
    expect(() => decodeImage(badFilter, 'image/png', WORKER_LIMITS)).toThrow('PNG row 5 has unknown filter type 9');
    expect(decodeImage(good, 'image/png', WORKER_LIMITS).dctScale).toBe(8);
  });
});
