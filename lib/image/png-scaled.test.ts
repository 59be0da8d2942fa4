/**
 * Large PNGs decode at 1/8 scale, row-streamed (png-scaled.ts): each output pixel is exactly the
 * rounded mean of its 8×8 block of the full-size decode, through every row filter, bit depth,
 * palette and transparency; an Adam7-interlaced file decodes to exactly what the same pixels
 * saved non-interlaced do; a 12-megapixel PNG, interlaced or not, passes a Worker's 48 MiB
 * decoder limit.
 */
import { zlibSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.ts';
import { decodeImage } from './decode.ts';
import { decodePng, pngDecodeMemory, readPngHeader } from './png.ts';
import { concat, crc32, ihdr, pngChunk, pngImageData, pngOf, PNG_SIGNATURE, randomGray } from './testing.ts';
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

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * A PNG of packed rows, row y (of the image, or with `interlaced` of each Adam7 pass) filtered
 * with type (y + pass) mod 5; `extra` chunks before IDAT.
 */
function filteredPng(w: number, h: number, depth: number, colorType: number, rowOf: (y: number) => Uint8Array, extra: Uint8Array[] = [], interlaced = false): Uint8Array {
  const raw = pngImageData(w, h, CHANNELS[colorType] * depth, rowOf, { interlaced, filterOf: (y, pass) => (y + pass) % 5 });
  return concat(PNG_SIGNATURE, ihdr(w, h, depth, colorType, interlaced ? 1 : 0), ...extra, chunk('IDAT', zlibSync(raw, { level: 6 })), pngChunk('IEND'));
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
    png: () => filteredPng(1700, 1300, 8, 2, (y) => Uint8Array.from({ length: 1700 * 3 }, (_, i) => pattern((i / 3) | 0, y, i % 3))),
  },
  {
    name: '16-bit RGBA, partly transparent', w: 1100, h: 900, color: true,
    png: () => filteredPng(1100, 900, 16, 6, (y) => Uint8Array.from({ length: 1100 * 8 }, (_, i) => {
      const x = (i / 8) | 0, k = ((i % 8) / 2) | 0;
      return k === 3 ? (x < 300 ? 128 : 255) : pattern(x, y, k + (i & 1));
    })),
  },
  {
    name: '4-bit palette with tRNS', w: 4000, h: 3000, color: true,
    png: () => filteredPng(4000, 3000, 4, 3, (y) => Uint8Array.from({ length: 2000 }, (_, i) => ((((2 * i + (y >> 4)) >> 5) & 15) << 4) | (((2 * i + 1 + (y >> 4)) >> 5) & 15)),
      [pngChunk('PLTE', Array.from({ length: 48 }, (_, i) => (i * 37) & 255)), pngChunk('tRNS', [255, 0, 128, 255, 60])]),
  },
  {
    name: '8-bit grey with a tRNS key', w: 2500, h: 2500, color: false,
    png: () => filteredPng(2500, 2500, 8, 0, (y) => Uint8Array.from({ length: 2500 }, (_, x) => pattern(x, y, 1)), [pngChunk('tRNS', [0, 77])]),
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
    const png = filteredPng(4000, 3000, 8, 2, (y) => Uint8Array.from({ length: 12000 }, (_, i) => (((i / 3) >> 4) + (y >> 4) * (1 + (i % 3))) & 255));
    expect(png.length).toBeLessThan(8 * 1024 * 1024);
    expect(pngDecodeMemory(readPngHeader(png), png.length)).toBeGreaterThan(3 * WORKER_LIMITS.maxDecodeMemory);
    const img = decodeImage(png, 'image/png', WORKER_LIMITS, { color: true });
    expect([img.width, img.height, img.dctScale]).toEqual([500, 375, 8]);
  });

  it('accepts a 12-megapixel Adam7-interlaced RGB PNG under the same limit, exactly as the same pixels non-interlaced', () => {
    const rows = Array.from({ length: 3000 }, (_, y) => {
      const row = new Uint8Array(12000);
      for (let i = 0; i < 12000; i++) row[i] = (((i / 3) >> 4) + (y >> 4) * (1 + (i % 3))) & 255;
      return row;
    });
    const rowOf = (y: number) => rows[y];
    const png = filteredPng(4000, 3000, 8, 2, rowOf, [], true);
    expect(readPngHeader(png).interlaced).toBe(true);
    expect(png.length).toBeLessThan(8 * 1024 * 1024);
    expect(pngDecodeMemory(readPngHeader(png), png.length)).toBeGreaterThan(3 * WORKER_LIMITS.maxDecodeMemory);
    const img = decodeImage(png, 'image/png', WORKER_LIMITS, { color: true });
    expect([img.width, img.height, img.dctScale]).toEqual([500, 375, 8]);
    expect(img).toEqual(decodeImage(filteredPng(4000, 3000, 8, 2, rowOf), 'image/png', WORKER_LIMITS, { color: true }));
  });

  it('keeps a dataset-size PNG at full size', () => {
    const png = filteredPng(64, 48, 8, 2, (y) => Uint8Array.from({ length: 192 }, (_, i) => pattern((i / 3) | 0, y, i % 3)));
    const img = decodeImage(png, 'image/png', WORKER_LIMITS, { color: true });
    expect([img.width, img.height, img.dctScale]).toEqual([64, 48, undefined]);
  });

  it('refuses a truncated stream and an unknown filter type', () => {
    const w = 2000, h = 2000;
    const rows = (y: number) => Uint8Array.from({ length: w * 3 }, (_, i) => pattern((i / 3) | 0, y, i % 3));
    const good = filteredPng(w, h, 8, 2, rows);
    const short = concat(PNG_SIGNATURE, ihdr(w, h, 8, 2), chunk('IDAT', zlibSync(new Uint8Array(100 * (1 + w * 3)))), pngChunk('IEND'));
    expect(() => decodeImage(short, 'image/png', WORKER_LIMITS)).toThrow(/truncated/);
    const raw = new Uint8Array(h * (1 + w * 3));
    raw[(1 + w * 3) * 5] = 9;
    const badFilter = concat(PNG_SIGNATURE, ihdr(w, h, 8, 2), chunk('IDAT', zlibSync(raw)), pngChunk('IEND'));
    expect(() => decodeImage(badFilter, 'image/png', WORKER_LIMITS)).toThrow('PNG row 5 has unknown filter type 9');
    expect(decodeImage(good, 'image/png', WORKER_LIMITS).dctScale).toBe(8);
  });
});

/** Every colour type and bit depth, with tRNS where the type takes one: [name, colour type, depth, extra chunks]. */
const LAYOUTS: [string, number, number, Uint8Array[]][] = [
  ['1-bit grey', 0, 1, [pngChunk('tRNS', [0, 1])]],
  ['2-bit grey', 0, 2, [pngChunk('tRNS', [0, 2])]],
  ['4-bit grey', 0, 4, [pngChunk('tRNS', [0, 9])]],
  ['8-bit grey', 0, 8, [pngChunk('tRNS', [0, 77])]],
  ['16-bit grey', 0, 16, []],
  ['8-bit grey + alpha', 4, 8, []],
  ['16-bit grey + alpha', 4, 16, []],
  ['8-bit RGB', 2, 8, []],
  ['16-bit RGB', 2, 16, [pngChunk('tRNS', [0, 1, 0, 2, 0, 3])]],
  ['8-bit RGBA', 6, 8, []],
  ['16-bit RGBA', 6, 16, []],
  ['1-bit palette', 3, 1, [pngChunk('PLTE', [10, 200, 30, 250, 5, 90]), pngChunk('tRNS', [128])]],
  ['2-bit palette', 3, 2, [pngChunk('PLTE', Array.from({ length: 12 }, (_, i) => (i * 53) & 255)), pngChunk('tRNS', [255, 0])]],
  ['4-bit palette', 3, 4, [pngChunk('PLTE', Array.from({ length: 48 }, (_, i) => (i * 37) & 255)), pngChunk('tRNS', [255, 0, 128, 255, 60])]],
  ['8-bit palette', 3, 8, [pngChunk('PLTE', Array.from({ length: 768 }, (_, i) => (i * 101) & 255)), pngChunk('tRNS', [7, 255, 200])]],
];
/** 1×1 and 3×2 leave most Adam7 passes empty; none of the widths is a multiple of 8. */
const SIZES = [[1, 1], [3, 2], [2, 9], [5, 7], [13, 11], [61, 37], [203, 97]];

describe('Adam7-interlaced PNGs at 1/8 scale', () => {
  for (const [name, colorType, depth, extra] of LAYOUTS) {
    it(`${name}: exactly the decode of the same pixels saved non-interlaced, each pixel its block's mean`, () => {
      const bits = CHANNELS[colorType] * depth;
      for (const [w, h] of SIZES) {
        const stride = Math.ceil((w * bits) / 8);
        const rand = mulberry32(w * 1000 + h + colorType * 17 + depth);
        // Random samples; an 8-bit palette index stays within its 256-entry palette, and keyed
        // grey values turn up often enough to make transparent pixels.
        const rows = Array.from({ length: h }, () => Uint8Array.from({ length: stride }, () => (rand() < 0.1 && colorType === 0 && depth === 8 ? 77 : Math.floor(rand() * 256))));
        const flat = filteredPng(w, h, depth, colorType, (y) => rows[y], extra);
        const adam7 = filteredPng(w, h, depth, colorType, (y) => rows[y], extra, true);
        const limits = resolveLimits();
        const small = decodePng(flat, limits, true, 8);
        expect(decodePng(adam7, limits, true, 8), `${w}×${h}`).toEqual(small);
        // (fast-png refuses a tRNS with more 16-bit values than the image has pixels)
        if (w * h < 3) continue;
        const full = decodePng(flat, limits, true, 1);
        expect([small.width, small.height, small.dctScale, small.hadAlpha]).toEqual([Math.ceil(w / 8), Math.ceil(h / 8), 8, full.hadAlpha]);
        expect(small.gray, `${w}×${h}`).toEqual(blockMeans(full.gray, w, h, 1));
        if (full.rgb) expect(small.rgb, `${w}×${h}`).toEqual(blockMeans(full.rgb, w, h, 3));
      }
    });
  }

  it("decodes fast-png's own Adam7 files (8- and 16-bit, every channel count, palette) as their non-interlaced twins", () => {
    const palette = Array.from({ length: 256 }, (_, i) => [i, (i * 7) & 255, 255 - i]) as [number, number, number][];
    for (const [w, h] of SIZES) {
      for (const channels of [1, 2, 3, 4]) {
        for (const depth of [8, 16] as const) {
          const n = w * h * channels, seed = w * h * channels * depth;
          const data = depth === 8 ? randomGray(n, seed) : Uint16Array.from(randomGray(2 * n, seed).subarray(0, n), (v, i) => v * 257 + (i & 255));
          const image = { width: w, height: h, data, channels, depth };
          expect(decodePng(pngOf(image, 'Adam7'), resolveLimits(), true, 8), `${w}×${h}×${channels} ${depth}-bit`).toEqual(decodePng(pngOf(image), resolveLimits(), true, 8));
        }
      }
      const indexed = { width: w, height: h, data: randomGray(w * h, w + h), channels: 1, depth: 8 as const, palette };
      expect(decodePng(pngOf(indexed, 'Adam7'), resolveLimits(), true, 8), `${w}×${h} palette`).toEqual(decodePng(pngOf(indexed), resolveLimits(), true, 8));
    }
  });

  it('refuses an unknown filter type by pass and row, and a truncated stream', () => {
    const w = 61, h = 37, rows = (y: number) => Uint8Array.from({ length: 3 * w }, (_, i) => (i + y) & 255);
    const badRaw = pngImageData(w, h, 24, rows, { interlaced: true, filterOf: (y, pass) => (pass === 2 && y === 3 ? 9 : 0) });
    const bad = concat(PNG_SIGNATURE, ihdr(w, h, 8, 2, 1), chunk('IDAT', zlibSync(badRaw)), pngChunk('IEND'));
    expect(() => decodePng(bad, resolveLimits(), true, 8)).toThrow('PNG interlace pass 3 row 3 has unknown filter type 9');
    const raw = pngImageData(w, h, 24, rows, { interlaced: true });
    const short = concat(PNG_SIGNATURE, ihdr(w, h, 8, 2, 1), chunk('IDAT', zlibSync(raw.subarray(0, raw.length - 100))), pngChunk('IEND'));
    expect(() => decodePng(short, resolveLimits(), true, 8)).toThrow(/truncated: it holds \d+ of its 71 rows/);
  });
});
