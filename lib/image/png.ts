/*
 * PNG → luminance. fast-png does the decoding; around it we
 * - read IHDR ourselves and check every limit before decoding anything;
 * - walk the chunk list, so a truncated file is refused up front;
 * - inflate the image data once with a running count, refusing a stream that inflates to more
 *   (a decompression bomb) or less (truncated) than IHDR implies — fast-png would buffer a bomb
 *   whole, and zero-fill a short stream without a word;
 * - hand fast-png only the chunks that define pixels (IHDR, PLTE, tRNS, IDAT, IEND), so no
 *   ancillary chunk (a compressed iCCP profile, text, APNG frames) costs memory or time.
 */
import { decode as decodePngLib, type DecodedPng } from 'fast-png';
import { Unzlib, unzlibSync } from 'fflate';
import { grayOverBlack, lumaOverBlack, to8bit } from './color.ts';
import { ImageError } from './errors.ts';
import { decodePngScaled, pngPasses, pngScaledDecodeMemory } from './png-scaled.ts';
import { checkDecodeBudget, checkDecodeMemory, checkDimensions, type DecodedImage, type ImageLimits } from './types.ts';

/**
 * Above this estimated full-decode memory (pngDecodeMemory, grey), a PNG, interlaced or not, is
 * decoded at 1/8 scale, row-streamed (png-scaled.ts): the same rule as for JPEGs (jpeg.ts), from
 * the file alone, so the trainer, Node and Workers decode it alike.
 */
export const PNG_FULL_DECODE_MAX_MEMORY = 32 * 1024 * 1024;

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const ColorType = { Gray: 0, Rgb: 2, Palette: 3, GrayAlpha: 4, Rgba: 6 } as const;

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
const PIXEL_CHUNKS = new Set(['IHDR', 'PLTE', 'tRNS', 'IDAT', 'IEND']);
/** Compressed bytes fed to the inflater at a time: bounds what one step can expand to (~8 MiB). */
const INFLATE_STEP = 8 * 1024;
/** Inflated bytes tolerated past what IHDR implies (some encoders pad the stream). */
const INFLATE_SLACK = 64 * 1024;

export interface PngHeader {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
}

function fail(message: string, cause?: unknown): never {
  throw new ImageError('undecodable_image', message, cause === undefined ? undefined : { cause });
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

function chunkType(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
}

/** Reads and validates IHDR; `bytes` starts with the PNG signature. */
export function readPngHeader(bytes: Uint8Array): PngHeader {
  for (let i = 4; i < 8; i++) {
    if (bytes[i] !== PNG_SIGNATURE[i]) fail('PNG signature is damaged (was the file sent as text?)');
  }
  if (bytes.length < 8 + 8 + 13 + 4) fail(`PNG is truncated: ${bytes.length} bytes end before the IHDR header does`);
  if (u32(bytes, 8) !== 13 || chunkType(bytes, 12) !== 'IHDR') fail('PNG does not start with a 13-byte IHDR chunk');
  const width = u32(bytes, 16);
  const height = u32(bytes, 20);
  const depth = bytes[24];
  const colorType = bytes[25];
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) fail(`PNG header gives an invalid size ${width}×${height}`);
  if (!(colorType in DEPTHS)) fail(`PNG header gives an invalid colour type ${colorType}`);
  if (!DEPTHS[colorType].includes(depth)) fail(`PNG header gives bit depth ${depth}, invalid for colour type ${colorType}`);
  if (bytes[26] !== 0 || bytes[27] !== 0) fail(`PNG header gives an unknown compression (${bytes[26]}) or filter (${bytes[27]}) method`);
  if (bytes[28] > 1) fail(`PNG header gives an unknown interlace method ${bytes[28]}`);
  return { width, height, depth, colorType, interlaced: bytes[28] === 1 };
}

function lineBytes(width: number, bitsPerPixel: number): number {
  return Math.ceil((width * bitsPerPixel) / 8);
}

/**
 * Size of the filtered, uncompressed image data IHDR implies: each row of the image, or of each
 * Adam7 pass, has a filter-type byte.
 */
export function rawDataSize(h: PngHeader): number {
  return pngPasses(h).reduce((n, p) => n + p.rows * (1 + p.stride), 0);
}

/**
 * Peak memory of a full-size decode: fast-png holds the inflater's growing buffer, the inflated
 * chunks, their concatenation and the unfiltered copy (measured peak ≈ 5 × the raw data; an
 * interlaced file's copy is the deinterlaced image, the same size less the filter bytes), plus
 * our copy of the input and the luminance plane.
 */
export function pngDecodeMemory(h: PngHeader, fileBytes: number, color = false): number {
  return 5 * rawDataSize(h) + 2 * fileBytes + h.width * h.height * (color && isColorPng(h) ? 4 : 1);
}

/** Colour types that carry colour (RGB, RGBA, palette); grey and grey + alpha do not. */
export function isColorPng(h: PngHeader): boolean {
  return h.colorType === ColorType.Rgb || h.colorType === ColorType.Rgba || h.colorType === ColorType.Palette;
}

interface ChunkWalk {
  /** [start, end) byte ranges of the chunks fast-png needs, each with its length, type and CRC. */
  keep: [number, number][];
  /** [start, end) byte ranges of the IDAT payloads, in order. */
  idat: [number, number][];
  hasPalette: boolean;
}

function walkChunks(bytes: Uint8Array): ChunkWalk {
  const keep: [number, number][] = [];
  const idat: [number, number][] = [];
  let hasPalette = false;
  let at = 8;
  for (;;) {
    if (at + 12 > bytes.length) fail(`PNG is truncated: it ends at byte ${bytes.length} before the IEND chunk`);
    const length = u32(bytes, at);
    const type = chunkType(bytes, at + 4);
    const end = at + 12 + length;
    if (length > 0x7fffffff || end > bytes.length) {
      fail(`PNG is truncated or corrupt: chunk ${JSON.stringify(type)} at byte ${at} claims ${length} bytes, ${bytes.length - at - 12} remain`);
    }
    if (PIXEL_CHUNKS.has(type)) keep.push([at, end]);
    if (type === 'IDAT') idat.push([at + 8, at + 8 + length]);
    if (type === 'PLTE') hasPalette = true;
    if (type === 'IEND') break;
    at = end;
  }
  if (idat.length === 0) fail('PNG has no image data (IDAT chunk)');
  return { keep, idat, hasPalette };
}

/**
 * Inflates the IDAT stream counting bytes, without keeping them; refuses bombs and short data.
 * A stream of at most INFLATE_STEP compressed bytes (a small image's) is inflated in one call
 * into a buffer one byte larger than allowed, which fflate does not grow, so no more than one
 * streaming step's bytes are ever produced: streaming it costs ~0.1 ms more, in the inflater's
 * 32 KiB window and 128 KiB of headroom allocated and copied per step, where a 28×28 PNG
 * inflates to 812 bytes.
 */
function checkInflatedSize(bytes: Uint8Array, idat: [number, number][], expected: number): void {
  let produced = 0;
  const compressed = idat.reduce((n, [start, end]) => n + end - start, 0);
  try {
    if (compressed <= INFLATE_STEP) {
      const stream = concatRanges(bytes, idat);
      produced = unzlibSync(stream, { out: new Uint8Array(expected + INFLATE_SLACK + 1) }).length;
      if (produced > expected + INFLATE_SLACK) fail(`PNG image data inflates to more than the ${expected} bytes IHDR implies`);
    } else {
      const inflater = new Unzlib((chunk) => {
        produced += chunk.length;
        if (produced > expected + INFLATE_SLACK) {
          fail(`PNG image data inflates to more than the ${expected} bytes IHDR implies`);
        }
      });
      for (const [start, end] of idat) {
        for (let at = start; at < end; at += INFLATE_STEP) {
          inflater.push(bytes.subarray(at, Math.min(end, at + INFLATE_STEP)), false);
        }
      }
      inflater.push(new Uint8Array(0), true);
    }
  } catch (err) {
    if (err instanceof ImageError) throw err;
    fail(`PNG image data is corrupt: ${(err as Error).message}`, err);
  }
  if (produced < expected) fail(`PNG image data is truncated: it inflates to ${produced} bytes, IHDR implies ${expected}`);
}

/** `head`, then the bytes of `ranges` of `bytes`, one after another. */
function concatRanges(bytes: Uint8Array, ranges: [number, number][], head: readonly number[] = []): Uint8Array {
  const out = new Uint8Array(head.length + ranges.reduce((n, [start, end]) => n + end - start, 0));
  out.set(head);
  let at = head.length;
  for (const [start, end] of ranges) {
    out.set(bytes.subarray(start, end), at);
    at += end - start;
  }
  return out;
}

/**
 * Decodes a PNG to luminance (see color.ts for the luma weights and the composite over black),
 * and with `color` a colour PNG also to RGB composited over black.
 * 16-bit samples are reduced with round(v / 257); 1-, 2- and 4-bit grey is widened to 0..255.
 */
export function decodePng(bytes: Uint8Array, limits: Required<ImageLimits>, color = false, scale?: 1 | 8): DecodedImage {
  const header = readPngHeader(bytes);
  const { width, height, depth, colorType } = header;
  checkDimensions(width, height, limits, 'PNG');
  const scaled = (scale ?? pngDctScaleOf(header, bytes.length)) === 8;
  if (!scaled && header.interlaced && depth < 8) {
    // fast-png reads sub-byte interlaced passes as if each pixel were a whole byte; the 1/8-scale
    // decode (png-scaled.ts) reads them properly, but a small file is decoded at full size.
    throw new ImageError('unsupported_format', `interlaced PNGs with ${depth}-bit samples are not supported; save it non-interlaced or with 8-bit samples`);
  }
  const raw = rawDataSize(header);
  // Less each row's filter byte (an interlaced file has more rows than the image: its passes').
  checkDecodeBudget(raw - pngPasses(header).reduce((n, p) => n + p.rows, 0), `${width}×${height} ${depth}-bit PNG`, limits);
  checkDecodeMemory(scaled ? pngScaledDecodeMemory(header, bytes.length) : pngDecodeMemory(header, bytes.length, color), `${width}×${height} PNG`, limits);

  const walk = walkChunks(bytes);
  if (colorType === ColorType.Palette && !walk.hasPalette) fail('PNG has palette colour type but no PLTE chunk');
  if (scaled) {
    const { palette, transparency } = paletteOf(bytes, walk.keep, colorType);
    const rgb = color && isColorPng(header);
    const small = decodePngScaled(bytes, header, walk.idat, palette, transparency, rgb, (png, h, into) => pngToGray(png, h, rgb, into));
    return { ...small, format: 'png', dctScale: 8 };
  }
  checkInflatedSize(bytes, walk.idat, raw);

  const slim = concatRanges(bytes, walk.keep, PNG_SIGNATURE);
  let png: DecodedPng;
  try {
    png = decodePngLib(slim, { checkCrc: true });
  } catch (err) {
    fail(`PNG could not be decoded: ${(err as Error).message}`, err);
  }
  return { width, height, ...pngToGray(png, header, color && isColorPng(header)), format: 'png' };
}

/** Whether a PNG is decoded at 1/8 scale: when its full-size decode would take over PNG_FULL_DECODE_MAX_MEMORY. */
export function pngDctScaleOf(h: PngHeader, fileBytes: number): 1 | 8 {
  return pngDecodeMemory(h, fileBytes) > PNG_FULL_DECODE_MAX_MEMORY ? 8 : 1;
}

/** PLTE and tRNS as fast-png gives them: palette entries [r, g, b, a], and tRNS's key samples. */
function paletteOf(bytes: Uint8Array, chunks: [number, number][], colorType: number): Pick<DecodedPng, 'palette' | 'transparency'> {
  let palette: number[][] | undefined;
  let trns: Uint8Array | undefined;
  for (const [start, end] of chunks) {
    const type = chunkType(bytes, start + 4), data = bytes.subarray(start + 8, end - 4);
    if (type === 'PLTE') {
      if (data.length % 3 !== 0 || data.length === 0 || data.length > 768) fail(`PNG palette is ${data.length} bytes; it must be 3 per entry, 1 to 256 entries`);
      palette = Array.from({ length: data.length / 3 }, (_, i) => [data[3 * i], data[3 * i + 1], data[3 * i + 2]]);
    }
    if (type === 'tRNS') trns = data;
  }
  if (colorType === ColorType.Palette) {
    if (palette && trns) palette.forEach((p, i) => { p.push(i < trns!.length ? trns![i] : 255); });
    return { palette: palette as DecodedPng['palette'] };
  }
  if (!trns) return {};
  const transparency = new Uint16Array(trns.length >> 1);
  for (let i = 0; i < transparency.length; i++) transparency[i] = (trns[2 * i] << 8) | trns[2 * i + 1];
  return { transparency };
}

/** `into`: buffers to reuse (at least w × h and 3 × w × h long), so that a strip-by-strip decode leaves no garbage per strip. */
function pngToGray(png: DecodedPng, header: PngHeader, color: boolean, into?: { gray: Uint8Array; rgb?: Uint8Array }): { gray: Uint8Array; rgb?: Uint8Array; hadAlpha: boolean } {
  const { width: w, height: h, depth, colorType } = header;
  const n = w * h;
  const data = png.data;
  const packed = depth < 8;
  const expected = packed ? lineBytes(w, depth) * h : n * CHANNELS[colorType];
  if (png.width !== w || png.height !== h || data.length !== expected) {
    fail(`PNG decoded to ${data.length} samples for ${png.width}×${png.height}, expected ${expected} for ${w}×${h}`);
  }
  // Zeros to start with: a transparent key pixel is left black.
  const gray = into ? into.gray.subarray(0, n).fill(0) : new Uint8Array(n);
  const rgb = color ? (into?.rgb ? into.rgb.subarray(0, 3 * n).fill(0) : new Uint8Array(3 * n)) : undefined;
  let hadAlpha = false;
  const wide = depth === 16;

  if (packed || colorType === ColorType.Palette) {
    // One sample per pixel, possibly several pixels per byte, MSB first; rows start on a byte.
    const stride = lineBytes(w, depth);
    const mask = (1 << depth) - 1;
    let lut: Uint8Array;
    let opaque: Uint8Array;
    if (colorType === ColorType.Palette) {
      const palette = png.palette ?? fail('PNG has palette colour type but no palette');
      lut = new Uint8Array(256);
      opaque = new Uint8Array(256);
      const colors = new Uint8Array(3 * 256);
      palette.forEach(([r, g, b, a = 255], i) => {
        lut[i] = lumaOverBlack(r, g, b, a);
        opaque[i] = a === 255 ? 1 : 0;
        colors[3 * i] = grayOverBlack(r, a);
        colors[3 * i + 1] = grayOverBlack(g, a);
        colors[3 * i + 2] = grayOverBlack(b, a);
      });
      for (let y = 0, i = 0; y < h; y++) {
        for (let x = 0, bit = 0; x < w; x++, bit += depth, i++) {
          const idx = (data[y * stride + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
          if (idx >= palette.length) fail(`PNG pixel (${x}, ${y}) uses palette entry ${idx}; the palette has ${palette.length}`);
          gray[i] = lut[idx];
          if (!opaque[idx]) hadAlpha = true;
          if (rgb) rgb.set(colors.subarray(3 * idx, 3 * idx + 3), 3 * i);
        }
      }
    } else {
      // Grey at 1, 2 or 4 bits; tRNS names one grey level as fully transparent.
      const key = png.transparency?.[0] ?? -1;
      const scale = 255 / mask;
      for (let y = 0, i = 0; y < h; y++) {
        for (let x = 0, bit = 0; x < w; x++, bit += depth, i++) {
          const v = (data[y * stride + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
          if (v === key) hadAlpha = true;
          else gray[i] = v * scale;
        }
      }
    }
    return { gray, rgb, hadAlpha };
  }

  const s = (v: number) => (wide ? to8bit(v) : v);
  const t = png.transparency;
  switch (colorType) {
    case ColorType.Gray: {
      const key = t?.[0] ?? -1;
      for (let i = 0; i < n; i++) {
        const v = data[i];
        if (v === key) hadAlpha = true;
        else gray[i] = s(v);
      }
      break;
    }
    case ColorType.GrayAlpha:
      for (let i = 0; i < n; i++) {
        const a = s(data[2 * i + 1]);
        if (a !== 255) hadAlpha = true;
        gray[i] = grayOverBlack(s(data[2 * i]), a);
      }
      break;
    case ColorType.Rgb: {
      const keyed = t !== undefined && t.length >= 3;
      for (let i = 0; i < n; i++) {
        const r = data[3 * i], g = data[3 * i + 1], b = data[3 * i + 2];
        if (keyed && r === t[0] && g === t[1] && b === t[2]) hadAlpha = true;
        else {
          gray[i] = lumaOverBlack(s(r), s(g), s(b), 255);
          if (rgb) { rgb[3 * i] = s(r); rgb[3 * i + 1] = s(g); rgb[3 * i + 2] = s(b); }
        }
      }
      break;
    }
    case ColorType.Rgba:
      for (let i = 0; i < n; i++) {
        const a = s(data[4 * i + 3]);
        if (a !== 255) hadAlpha = true;
        const r = s(data[4 * i]), g = s(data[4 * i + 1]), b = s(data[4 * i + 2]);
        gray[i] = lumaOverBlack(r, g, b, a);
        if (rgb) { rgb[3 * i] = grayOverBlack(r, a); rgb[3 * i + 1] = grayOverBlack(g, a); rgb[3 * i + 2] = grayOverBlack(b, a); }
      }
      break;
  }
  return { gray, rgb, hadAlpha };
}
