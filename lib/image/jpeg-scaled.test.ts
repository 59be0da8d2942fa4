/**
 * Large JPEGs decode at 1/8 scale in bounded memory (jpeg.ts, vendor/jpeg-decoder.js): each
 * output pixel is its 8×8 block's mean, a 12-megapixel photo passes a Worker's 48 MiB decoder
 * limit, and a JPEG of dataset size still decodes at full size, pixel for pixel as before.
 */
import { decode as decodeJpegJs, encode as encodeJpeg } from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { lumaOverBlack } from './color.ts';
import { decodeImage } from './decode.ts';
import { FULL_DECODE_MAX_MEMORY, jpegDecodeMemory, readJpegHeader } from './jpeg.ts';
import { fromBase64, JPEG_FIXTURES } from './testing.ts';
import { resolveLimits } from './types.ts';
import { decode as decodeVendored } from './vendor/jpeg-decoder.js';

const WORKER_LIMITS = { maxDecodeMemory: 48 * 1024 * 1024 };

/** A smooth RGB scene with edges: gradients, a disc, a bar — [h × w × 4] RGBA. */
function scene(w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = 4 * (y * w + x);
    const disc = Math.hypot(x - w * 0.6, y - h * 0.4) < h * 0.25;
    out[i] = disc ? 230 : Math.round((255 * x) / w);
    out[i + 1] = y > h * 0.7 && y < h * 0.8 ? 20 : Math.round((255 * y) / h);
    out[i + 2] = disc ? 40 : 128;
    out[i + 3] = 255;
  }
  return out;
}

/** Means of each 8×8 block (partial blocks at the edges over the pixels they hold), per RGB channel. */
function blockMeans(rgb: Uint8Array, w: number, h: number): Float64Array {
  const W = Math.ceil(w / 8), H = Math.ceil(h / 8);
  const sum = new Float64Array(W * H * 3), n = new Float64Array(W * H);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const b = (y >> 3) * W + (x >> 3);
    n[b]++;
    for (let c = 0; c < 3; c++) sum[3 * b + c] += rgb[3 * (y * w + x) + c];
  }
  for (let b = 0; b < W * H; b++) for (let c = 0; c < 3; c++) sum[3 * b + c] /= n[b];
  return sum;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('JPEG decoding at 1/8 scale', () => {
  it('accepts a 12-megapixel JPEG under the Workers decoder-memory limit, as the means of its 8×8 blocks', () => {
    const w = 4000, h = 3000;
    const jpeg = new Uint8Array(encodeJpeg({ width: w, height: h, data: scene(w, h) }, 85).data);
    const header = readJpegHeader(jpeg, resolveLimits(WORKER_LIMITS));
    // The full decode would need far more than the limit: today's 413.
    expect(jpegDecodeMemory(header)).toBeGreaterThan(WORKER_LIMITS.maxDecodeMemory * 4);
    expect(header.dctScale).toBe(8);
    const img = decodeImage(jpeg, 'image/jpeg', WORKER_LIMITS, { color: true });
    expect([img.width, img.height, img.dctScale]).toEqual([500, 375, 8]);
    const full = decodeJpegJs(jpeg, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 2048 });
    // A DC term is the block's exact mean before clamping and rounding of the inverse DCT.
    expect(maxDiff(img.rgb!, blockMeans(full.data, w, h))).toBeLessThanOrEqual(4);
  });

  it('keeps a JPEG under the threshold at full size, exactly as jpeg-js decodes it', () => {
    const w = 600, h = 400;
    const jpeg = new Uint8Array(encodeJpeg({ width: w, height: h, data: scene(w, h) }, 90).data);
    expect(jpegDecodeMemory(readJpegHeader(jpeg, resolveLimits()))).toBeLessThan(FULL_DECODE_MAX_MEMORY);
    const img = decodeImage(jpeg, 'image/jpeg', undefined, { color: true });
    expect([img.width, img.height, img.dctScale]).toEqual([w, h, undefined]);
    expect(img.rgb).toEqual(decodeJpegJs(jpeg, { useTArray: true, formatAsRGBA: false }).data);
  });

  it('decodes progressive, grayscale and CMYK JPEGs at 1/8 scale too (DC scans only)', () => {
    const luma = (rgb: ArrayLike<number>) => Array.from({ length: rgb.length / 3 }, (_, i) => lumaOverBlack(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255));
    for (const [name, b64] of Object.entries(JPEG_FIXTURES)) {
      const bytes = fromBase64(b64);
      const full = decodeJpegJs(bytes, { useTArray: true, formatAsRGBA: false });
      const small = decodeVendored(bytes, { useTArray: true, formatAsRGBA: false, dcOnly: true });
      expect([small.width, small.height], name).toEqual([4, 4]);
      if (name === 'progressive') {
        // 4:2:0: a chroma block spans 16×16 pixels, so at 1/8 scale colour is averaged over 2×2
        // output pixels (this fixture's sharp coloured edge shows it); luminance stays per block.
        expect(maxDiff(luma(small.data), luma(blockMeans(full.data, 32, 32))), name).toBeLessThanOrEqual(8);
      } else {
        expect(maxDiff(small.data, blockMeans(full.data, 32, 32)), name).toBeLessThanOrEqual(2);
      }
    }
  });
});
