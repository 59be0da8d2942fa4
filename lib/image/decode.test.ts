import { encode as encodeJpeg } from 'jpeg-js';
import { zlibSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { decodeImage } from './decode.ts';
import { ImageError, type ImageErrorCode } from './errors.ts';
import {
  JPEG_FIXTURES, PNG_SIGNATURE, concat, fixCrcs, fromBase64, ihdr, insertChunk, pngChunk, pngChunks, pngOf, randomGray,
} from './testing.ts';

function codeOf(fn: () => unknown): ImageErrorCode {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ImageError);
    return (err as ImageError).code;
  }
  throw new Error('expected an ImageError, nothing was thrown');
}

function errorOf(fn: () => unknown): ImageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ImageError);
    return err as ImageError;
  }
  throw new Error('expected an ImageError, nothing was thrown');
}

/** A 1-pixel-per-colour RGBA strip: red, green, blue, white, half-transparent grey, transparent white. */
const RGBA_STRIP = Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255, 200, 200, 200, 128, 255, 255, 255, 0]);

describe('decodeImage: PNG colour types and depths', () => {
  it('turns colour into BT.601 luma in PIL’s fixed point, and composites alpha over black', () => {
    const img = decodeImage(pngOf({ width: 6, height: 1, data: RGBA_STRIP, channels: 4, depth: 8 }));
    // (255·19595 + 2^15) >> 16 = 76, … ; 200 · 128/255 = 100.4; transparent white → black
    expect(Array.from(img.gray)).toEqual([76, 150, 29, 255, 100, 0]);
    expect(img).toMatchObject({ width: 6, height: 1, hadAlpha: true, format: 'png' });
  });

  it('reports no alpha when every pixel is opaque, even in an RGBA file', () => {
    const rgba = RGBA_STRIP.slice(0, 16);
    expect(decodeImage(pngOf({ width: 4, height: 1, data: rgba, channels: 4, depth: 8 })).hadAlpha).toBe(false);
  });

  it('reads RGB, grey + alpha and 16-bit samples (reduced with round(v / 257))', () => {
    const rgb = decodeImage(pngOf({ width: 2, height: 1, data: Uint8Array.from([255, 0, 0, 10, 20, 30]), channels: 3, depth: 8 }));
    expect(Array.from(rgb.gray)).toEqual([76, 18]); // 10·.299 + 20·.587 + 30·.114 = 18.13
    const ga = decodeImage(pngOf({ width: 2, height: 1, data: Uint8Array.from([200, 255, 200, 51]), channels: 2, depth: 8 }));
    expect(Array.from(ga.gray)).toEqual([200, 40]);
    expect(ga.hadAlpha).toBe(true);
    const g16 = decodeImage(pngOf({ width: 4, height: 1, data: Uint16Array.from([0, 128, 129, 65535]), channels: 1, depth: 16 }));
    expect(Array.from(g16.gray)).toEqual([0, 0, 1, 255]);
    const rgba16 = decodeImage(pngOf({ width: 1, height: 1, data: Uint16Array.from([65535, 65535, 65535, 32896]), channels: 4, depth: 16 }));
    expect(Array.from(rgba16.gray)).toEqual([128]); // alpha 32896 = 128·257
  });

  it('widens 1-, 2- and 4-bit grey to 0..255', () => {
    // 1-bit: 10110000 → 255, 0, 255, 255 (4 pixels, padded row)
    expect(Array.from(decodeImage(pngOf({ width: 4, height: 1, data: Uint8Array.from([0b10110000]), channels: 1, depth: 1 })).gray))
      .toEqual([255, 0, 255, 255]);
    // 2-bit: 00 01 10 11 → 0, 85, 170, 255
    expect(Array.from(decodeImage(pngOf({ width: 4, height: 1, data: Uint8Array.from([0b00011011]), channels: 1, depth: 2 })).gray))
      .toEqual([0, 85, 170, 255]);
    // 4-bit, two rows of 3 pixels: each row is 2 bytes
    const img = decodeImage(pngOf({ width: 3, height: 2, data: Uint8Array.from([0x0f, 0x10, 0x52, 0xa0]), channels: 1, depth: 4 }));
    expect(Array.from(img.gray)).toEqual([0, 255, 17, 85, 34, 170]);
  });

  it('reads palette images, with tRNS alpha per palette entry', () => {
    // Built without alpha, tRNS added by hand: fast-png's encoder writes tRNS out of order.
    const palette = [[255, 0, 0], [0, 0, 255], [255, 255, 255], [255, 255, 255]];
    const png = pngOf({ width: 4, height: 1, data: Uint8Array.from([0b00011011]), channels: 1, depth: 2, palette });
    const img = decodeImage(insertChunk(png, pngChunk('tRNS', [255, 255, 0])));
    expect(Array.from(img.gray)).toEqual([76, 29, 0, 255]);
    expect(img.hadAlpha).toBe(true);
  });

  it('treats a grey or RGB tRNS colour key as fully transparent', () => {
    const gray = pngOf({ width: 3, height: 1, data: Uint8Array.from([10, 20, 30]), channels: 1, depth: 8 });
    const keyed = decodeImage(insertChunk(gray, pngChunk('tRNS', [0, 20])));
    expect(Array.from(keyed.gray)).toEqual([10, 0, 30]);
    expect(keyed.hadAlpha).toBe(true);
    // (fast-png wants at least as many pixels as tRNS has 16-bit values)
    const rgb = pngOf({ width: 3, height: 1, data: Uint8Array.from([255, 255, 255, 255, 0, 0, 0, 0, 255]), channels: 3, depth: 8 });
    expect(Array.from(decodeImage(insertChunk(rgb, pngChunk('tRNS', [0, 255, 0, 0, 0, 0]))).gray)).toEqual([255, 0, 29]);
  });

  it('reads Adam7-interlaced 8-bit PNGs, and refuses interlaced sub-byte ones by name', () => {
    const g = randomGray(13 * 11, 3);
    expect(decodeImage(pngOf({ width: 13, height: 11, data: g, channels: 1, depth: 8 }, 'Adam7')).gray).toEqual(g);
    const header = concat(PNG_SIGNATURE, ihdr(8, 8, 2, 0, 1));
    const err = errorOf(() => decodeImage(header));
    expect(err.code).toBe('unsupported_format');
    expect(err.message).toMatch(/interlaced.*2-bit/);
  });

  it('ignores ancillary chunks, even a compressed iCCP profile that would inflate to 16 MiB', () => {
    const g = randomGray(16, 4);
    const png = pngOf({ width: 4, height: 4, data: g, channels: 1, depth: 8 });
    const bomb = zlibSync(new Uint8Array(16 * 1024 * 1024), { level: 9 });
    const icc = pngChunk('iCCP', concat(Uint8Array.from([0x70, 0]), Uint8Array.from([0]), bomb));
    expect(decodeImage(insertChunk(png, icc)).gray).toEqual(g);
  });
});

describe('decodeImage: JPEG', () => {
  it('decodes jpeg-js’s own baseline output', () => {
    const rgba = new Uint8Array(16 * 16 * 4).fill(255);
    const jpeg = new Uint8Array(encodeJpeg({ width: 16, height: 16, data: rgba }, 90).data);
    const img = decodeImage(jpeg);
    expect(img).toMatchObject({ width: 16, height: 16, hadAlpha: false, format: 'jpeg' });
    for (const v of img.gray) expect(v).toBeGreaterThanOrEqual(253);
  });

  it('decodes progressive, one-component grey and Adobe CMYK JPEGs written by libjpeg', () => {
    // PIL reads these three as L = 191, 220 and 225 inside the rectangle, 0 outside.
    const expected = { progressive: 191, gray: 220, cmyk: 225 };
    for (const [name, inside] of Object.entries(expected)) {
      const img = decodeImage(fromBase64(JPEG_FIXTURES[name as keyof typeof JPEG_FIXTURES]));
      expect([img.width, img.height]).toEqual([32, 32]);
      expect(Math.abs(img.gray[16 * 32 + 16] - inside), name).toBeLessThanOrEqual(3);
      expect(img.gray[2 * 32 + 2], name).toBeLessThanOrEqual(3);
    }
  });

  it('needs no Buffer (absent in Workers) for PNG or JPEG', () => {
    const png = pngOf({ width: 2, height: 2, data: Uint8Array.from([1, 2, 3, 4]), channels: 1, depth: 8 });
    const jpeg = fromBase64(JPEG_FIXTURES.progressive);
    const saved = globalThis.Buffer;
    try {
      // @ts-expect-error -- removed on purpose for this test
      delete globalThis.Buffer;
      expect(decodeImage(png).gray).toEqual(Uint8Array.from([1, 2, 3, 4]));
      expect(decodeImage(jpeg).width).toBe(32);
    } finally {
      globalThis.Buffer = saved;
    }
  });

  it('refuses lossless, arithmetic-coded and 12-bit JPEGs as unsupported', () => {
    const sof = (marker: number, precision: number) =>
      Uint8Array.from([0xff, 0xd8, 0xff, marker, 0, 11, precision, 0, 16, 0, 16, 1, 1, 0x11, 0, 0xff, 0xd9]);
    expect(errorOf(() => decodeImage(sof(0xc3, 8))).message).toMatch(/lossless/);
    expect(errorOf(() => decodeImage(sof(0xc9, 8))).message).toMatch(/arithmetic/);
    expect(errorOf(() => decodeImage(sof(0xc1, 12))).message).toMatch(/12-bit/);
    expect(codeOf(() => decodeImage(sof(0xc9, 8)))).toBe('unsupported_format');
  });
});

describe('decodeImage: limits, checked from the header', () => {
  it('refuses a PNG whose IHDR claims 20000×20000 without decoding anything', () => {
    // Signature and IHDR only: had the decoder run, it would have found no image data.
    const err = errorOf(() => decodeImage(concat(PNG_SIGNATURE, ihdr(20000, 20000))));
    expect(err.code).toBe('image_too_large');
    expect(err.message).toBe('PNG is 20000×20000 pixels; the limit is 4096×4096');
    expect(err.status).toBe(413);
  });

  it('refuses a JPEG whose frame header claims 10000×9000', () => {
    const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0x23, 0x28, 0x27, 0x10, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    const err = errorOf(() => decodeImage(jpeg));
    expect(err.code).toBe('image_too_large');
    expect(err.message).toBe('JPEG is 10000×9000 pixels; the limit is 4096×4096');
  });

  it('applies the pixel-count and decoder-memory limits', () => {
    const png = concat(PNG_SIGNATURE, ihdr(3000, 3000));
    expect(errorOf(() => decodeImage(png, undefined, { maxPixels: 1_000_000 })).message)
      .toBe('PNG is 3000×3000 = 9000000 pixels; the limit is 1000000 pixels');
    // Decoded at full size (an estimate under 32 MiB), held to the limit as estimated.
    const rgba = concat(PNG_SIGNATURE, ihdr(1000, 1000, 8, 6, 1));
    const err = errorOf(() => decodeImage(rgba, undefined, { maxDecodeMemory: 16 * 1024 * 1024 }));
    expect(err.code).toBe('image_too_large');
    expect(err.message).toBe('decoding this 1000×1000 PNG needs about 20.0 MiB of memory; the limit is 16.0 MiB');
    // Over 32 MiB, interlaced or not, it is decoded at 1/8 scale in little memory (png-scaled.ts):
    // this header-only file passes the limit and is refused only for its missing chunks.
    const large = concat(PNG_SIGNATURE, ihdr(2000, 2000, 8, 6, 1));
    expect(errorOf(() => decodeImage(large, undefined, { maxDecodeMemory: 48 * 1024 * 1024 })).message).toMatch(/PNG is truncated/);
  });

  it('refuses a body over maxBytes before looking at it', () => {
    expect(codeOf(() => decodeImage(new Uint8Array(8 * 1024 * 1024 + 1)))).toBe('image_too_large');
    const png = pngOf({ width: 8, height: 8, data: randomGray(64, 1), channels: 1, depth: 8 });
    expect(errorOf(() => decodeImage(png, 'image/png', { maxBytes: 50 })).message).toBe(`image is ${png.length} bytes; the limit is 50 bytes`);
  });

  it('refuses a JPEG whose header claims more pixels than its data can hold', () => {
    const small = new Uint8Array(encodeJpeg({ width: 8, height: 8, data: new Uint8Array(256) }, 50).data);
    const sof = small.findIndex((b, i) => b === 0xff && small[i + 1] === 0xc0);
    const claimed = small.slice();
    claimed.set([4000 >> 8, 4000 & 255, 4000 >> 8, 4000 & 255], sof + 5);
    expect(errorOf(() => decodeImage(claimed)).message).toMatch(/claims 4000×4000 pixels but holds \d+ bytes/);
  });
});

describe('decodeImage: refusals', () => {
  it('empty body → empty_body', () => {
    expect(codeOf(() => decodeImage(new Uint8Array(0)))).toBe('empty_body');
  });

  it('anything not PNG or JPEG → unsupported_format, named when recognised', () => {
    expect(codeOf(() => decodeImage(randomGray(1000, 9)))).toBe('unsupported_format');
    expect(errorOf(() => decodeImage(new TextEncoder().encode('GIF89a....'))).message).toBe('the body is a GIF image; send a PNG or JPEG image');
    expect(errorOf(() => decodeImage(Uint8Array.from([1, 2, 3, 4, 5]), 'image/png; charset=x')).message)
      .toBe('the body (declared as image/png) is neither PNG nor JPEG (it starts 01 02 03 04); send a PNG or JPEG image');
  });

  it('detects the format from magic bytes, whatever the declared type', () => {
    const png = pngOf({ width: 2, height: 2, data: Uint8Array.from([1, 2, 3, 4]), channels: 1, depth: 8 });
    expect(decodeImage(png, 'image/jpeg').format).toBe('png');
  });

  it('truncated PNGs and JPEGs → undecodable_image, at every cut', () => {
    const png = pngOf({ width: 20, height: 20, data: randomGray(400, 2), channels: 1, depth: 8 });
    const jpeg = fromBase64(JPEG_FIXTURES.progressive);
    for (const file of [png, jpeg]) {
      for (let cut = 4; cut < file.length; cut += 7) {
        expect(codeOf(() => decodeImage(file.subarray(0, cut))), `cut at ${cut}`).toBe('undecodable_image');
      }
    }
  });

  it('refuses a PNG whose image data inflates to far more than IHDR implies (a bomb)', () => {
    // 32 MiB compresses to ~32 KiB, inflated step by step; 4 MiB to ~4 KiB, inflated in one call
    // (in one IDAT chunk, or in three).
    const small = zlibSync(new Uint8Array(4 * 1024 * 1024));
    expect(small.length).toBeLessThanOrEqual(8 * 1024);
    const thirds = [0, 1, 2].map((i) => pngChunk('IDAT', small.subarray(Math.floor((i * small.length) / 3), Math.floor(((i + 1) * small.length) / 3))));
    for (const idats of [[pngChunk('IDAT', zlibSync(new Uint8Array(32 * 1024 * 1024)))], [pngChunk('IDAT', small)], thirds]) {
      const bomb = concat(PNG_SIGNATURE, ihdr(16, 16), ...idats, pngChunk('IEND'));
      const started = performance.now();
      expect(errorOf(() => decodeImage(bomb)).message).toMatch(/inflates to more than the 272 bytes/);
      expect(performance.now() - started).toBeLessThan(2000);
    }
  });

  it('decodes a small PNG whose image data is split over several IDAT chunks', () => {
    const data = randomGray(24 * 24, 9);
    const png = pngOf({ width: 24, height: 24, data, channels: 1, depth: 8 });
    const idat = pngChunks(png).find((c) => c.type === 'IDAT')!;
    const z = png.subarray(idat.at + 8, idat.at + 8 + idat.length);
    const split = concat(png.subarray(0, idat.at), pngChunk('IDAT', z.subarray(0, 5)), pngChunk('IDAT', z.subarray(5, 9)), pngChunk('IDAT', z.subarray(9)), png.subarray(idat.at + 12 + idat.length));
    expect(decodeImage(split).gray).toEqual(data);
  });

  it('refuses short image data instead of zero-filling it', () => {
    const rows = new Uint8Array(10 * 65); // 10 of 64 rows, each a filter byte + 64 samples
    const png = concat(PNG_SIGNATURE, ihdr(64, 64), pngChunk('IDAT', zlibSync(rows)), pngChunk('IEND'));
    expect(errorOf(() => decodeImage(png)).message).toMatch(/truncated: it inflates to 650 bytes, IHDR implies 4160/);
  });

  it('refuses corrupt CRCs, palette indices out of range and a palette image without PLTE', () => {
    const png = pngOf({ width: 4, height: 4, data: randomGray(16, 5), channels: 1, depth: 8 });
    const idat = pngChunks(png).find((c) => c.type === 'IDAT')!;
    const badCrc = png.slice();
    badCrc[idat.at + 8 + idat.length] ^= 1;
    expect(codeOf(() => decodeImage(badCrc))).toBe('undecodable_image');

    const indexed = pngOf({ width: 2, height: 1, data: Uint8Array.from([0, 1]), channels: 1, depth: 8, palette: [[1, 2, 3], [4, 5, 6]] });
    const plte = pngChunks(indexed).find((c) => c.type === 'PLTE')!;
    const shortPalette = fixCrcs(concat(
      indexed.subarray(0, plte.at), pngChunk('PLTE', [1, 2, 3]), indexed.subarray(plte.at + 12 + plte.length),
    ));
    expect(errorOf(() => decodeImage(shortPalette)).message).toMatch(/palette entry 1; the palette has 1/);
    const noPalette = concat(indexed.subarray(0, plte.at), indexed.subarray(plte.at + 12 + plte.length));
    expect(errorOf(() => decodeImage(noPalette)).message).toMatch(/no PLTE/);
  });
});
