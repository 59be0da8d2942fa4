/*
 * JPEG → luminance. jpeg-js does the decoding; before it runs we walk the marker segments
 * ourselves, which costs no pixel work and lets us
 * - read the frame header (SOF) and check every limit, including the decoder's memory;
 * - refuse what jpeg-js cannot decode (lossless, hierarchical, arithmetic-coded, 12-bit) by name;
 * - refuse a truncated file (no end-of-image marker), which jpeg-js would otherwise half-paint;
 * - read the EXIF orientation, applied to the decoded pixels (see exif.ts).
 * jpeg-js is called with `useTArray: true`, which keeps it off Node's Buffer (absent in Workers).
 *
 * Large JPEGs decode at 1/8 scale (DCT scaling: each 8×8 block's mean from its DC coefficient,
 * as libjpeg's scale_denom = 8), in bounded memory: a JPEG whose full decode would take more
 * than FULL_DECODE_MAX_MEMORY (about 1.2 megapixels of 4:2:0 colour, 0.7 of 4:4:4). The choice
 * depends on the header alone, never on the server's limits, so one file decodes to the same
 * pixels in the trainer, on Node and on Workers; a 12-megapixel photo then needs ~3 MB and
 * still comes out 500×375, larger than any run's input. (jpeg-js keeps every coefficient, so the
 * decoder is a copy of it with that mode added: vendor/jpeg-decoder.js.)
 */
import { decode as decodeJpegLib } from './vendor/jpeg-decoder.js';
import { lumaOverBlack } from './color.ts';
import { ImageError } from './errors.ts';
import { applyOrientation, exifOrientation } from './exif.ts';
import { checkDecodeBudget, checkDecodeMemory, checkDimensions, type DecodedImage, type ImageLimits } from './types.ts';

/**
 * Memory per 8×8 block of coefficients jpeg-js holds: a separate 64-entry Int32Array each, whose
 * 256 bytes cost about 768 in V8 with the typed array's objects and allocator overhead (measured
 * as the process's peak resident memory while decoding).
 */
const BLOCK_BYTES = 768;

/** Above this estimated full-decode memory (jpegDecodeMemory), a JPEG is decoded at 1/8 scale. */
export const FULL_DECODE_MAX_MEMORY = 32 * 1024 * 1024;

export interface JpegHeader {
  width: number;
  height: number;
  /** EXIF orientation (1–8; 1 = upright, also when there is no EXIF). */
  orientation: number;
  /** Per component: horizontal and vertical sampling factors. */
  sampling: { h: number; v: number }[];
  /** 8 when the JPEG is decoded at 1/8 scale (see the top of this file), else 1. */
  dctScale: 1 | 8;
}

const UNSUPPORTED_SOF: Record<number, string> = {
  0xc3: 'lossless coding',
  0xc5: 'hierarchical coding', 0xc6: 'hierarchical coding', 0xc7: 'hierarchical coding',
  0xc9: 'arithmetic coding', 0xca: 'arithmetic coding', 0xcb: 'arithmetic coding',
  0xcd: 'hierarchical arithmetic coding', 0xce: 'hierarchical arithmetic coding', 0xcf: 'hierarchical arithmetic coding',
};

function fail(message: string, cause?: unknown): never {
  throw new ImageError('undecodable_image', message, cause === undefined ? undefined : { cause });
}

function u16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

function hex(marker: number): string {
  return `FF${marker.toString(16).toUpperCase().padStart(2, '0')}`;
}

function readFrame(bytes: Uint8Array, marker: number, at: number, end: number, limits: Required<ImageLimits>): JpegHeader {
  if (marker in UNSUPPORTED_SOF) {
    throw new ImageError('unsupported_format', `JPEG uses ${UNSUPPORTED_SOF[marker]} (marker ${hex(marker)}), which is not supported; save it as a baseline or progressive JPEG`);
  }
  if (end - at < 6) fail(`JPEG frame header (${hex(marker)}) is ${end - at} bytes, too short`);
  const precision = bytes[at];
  const height = u16(bytes, at + 1);
  const width = u16(bytes, at + 3);
  const count = bytes[at + 5];
  if (precision !== 8) {
    throw new ImageError('unsupported_format', `JPEG has ${precision}-bit samples; only 8-bit JPEGs are supported`);
  }
  if (width === 0 || height === 0) fail(`JPEG frame header gives size ${width}×${height}`);
  checkDimensions(width, height, limits, 'JPEG');
  if (count < 1 || count > 4 || end - at < 6 + 3 * count) fail(`JPEG frame header lists ${count} components in ${end - at} bytes`);
  const sampling: { h: number; v: number }[] = [];
  for (let c = 0; c < count; c++) {
    const hv = bytes[at + 7 + 3 * c];
    const h = hv >> 4, v = hv & 15;
    if (h < 1 || h > 4 || v < 1 || v > 4) fail(`JPEG component ${c} has sampling factors ${h}×${v}; each must be 1 to 4`);
    sampling.push({ h, v });
  }
  return { width, height, orientation: 1, sampling, dctScale: 1 };
}

/** 8×8 blocks in all components, each component at its own sampled size. */
function blockCount(f: JpegHeader): number {
  const maxH = Math.max(...f.sampling.map((s) => s.h));
  const maxV = Math.max(...f.sampling.map((s) => s.v));
  let n = 0;
  for (const { h, v } of f.sampling) n += Math.ceil(Math.ceil((f.width * h) / maxH) / 8) * Math.ceil(Math.ceil((f.height * v) / maxV) / 8);
  return n;
}

/** jpeg-js's working memory for this frame: coefficient blocks, sample lines, two pixel copies. */
export function jpegDecodeMemory(f: JpegHeader): number {
  const maxH = Math.max(...f.sampling.map((s) => s.h));
  const maxV = Math.max(...f.sampling.map((s) => s.v));
  const mcuCols = Math.ceil(f.width / 8 / maxH);
  const mcuRows = Math.ceil(f.height / 8 / maxV);
  let bytes = 0;
  for (const { h, v } of f.sampling) {
    bytes += mcuCols * h * mcuRows * v * BLOCK_BYTES;
    bytes += Math.ceil(Math.ceil(f.width / 8) * h / maxH) * 8 * Math.ceil(Math.ceil(f.height / 8) * v / maxV) * 8;
  }
  const pixels = f.width * f.height;
  return bytes + pixels * (f.sampling.length + 3 + 1);
}

/**
 * Working memory of a 1/8-scale decode: the file's copy jpeg-js makes, one Int32 DC term per
 * block, one sample per block per component, and the small image's pixel copies.
 */
export function jpegScaledDecodeMemory(f: JpegHeader, fileBytes: number): number {
  const pixels = Math.ceil(f.width / 8) * Math.ceil(f.height / 8);
  return fileBytes + blockCount(f) * (4 + 1) + pixels * (f.sampling.length + 3 + 1) + 64 * 1024;
}

/** Whether a JPEG of this frame is decoded at 1/8 scale. */
export function dctScaleOf(f: Omit<JpegHeader, 'dctScale'>): 1 | 8 {
  return jpegDecodeMemory({ ...f, dctScale: 1 }) > FULL_DECODE_MAX_MEMORY ? 8 : 1;
}

/**
 * Walks SOI … EOI: one frame header, scans skipped by looking for the next marker. Throws
 * `image_too_large` as soon as the frame header is over a limit.
 */
export function readJpegHeader(bytes: Uint8Array, limits: Required<ImageLimits>): JpegHeader {
  let frame: JpegHeader | null = null;
  let scanBytes = 0;
  let orientation = 1;
  let at = 2;
  for (;;) {
    // Between segments only 0xFF fill bytes belong; like libjpeg, skip stray bytes to the next 0xFF.
    while (at < bytes.length && bytes[at] !== 0xff) at++;
    while (at < bytes.length && bytes[at] === 0xff) at++;
    if (at >= bytes.length) fail('JPEG is truncated: it has no end-of-image marker');
    const marker = bytes[at++];
    if (marker === 0xd9) break;
    if (marker === 0x00 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue;
    if (at + 2 > bytes.length) fail(`JPEG is truncated inside the ${hex(marker)} segment`);
    const length = u16(bytes, at);
    const end = at + length;
    if (length < 2 || end > bytes.length) fail(`JPEG is truncated: segment ${hex(marker)} at byte ${at - 2} claims ${length} bytes`);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (frame) fail('JPEG holds more than one frame; only single-frame JPEGs are supported');
      frame = readFrame(bytes, marker, at + 2, end, limits);
      checkDecodeBudget(frame.width * frame.height * frame.sampling.length, `${frame.width}×${frame.height} JPEG`, limits);
      frame.dctScale = dctScaleOf(frame);
      checkDecodeMemory(frame.dctScale === 8 ? jpegScaledDecodeMemory(frame, bytes.length) : jpegDecodeMemory(frame), `${frame.width}×${frame.height} JPEG`, limits);
    }
    if (marker === 0xe1 && orientation === 1) orientation = exifOrientation(bytes.subarray(at + 2, end));
    at = end;
    if (marker === 0xda) {
      if (!frame) fail('JPEG has scan data before its frame header');
      // Entropy-coded data: 0xFF is escaped as FF 00, and RSTn markers may sit inside it.
      const start = at;
      while (at + 1 < bytes.length) {
        if (bytes[at] === 0xff) {
          const next = bytes[at + 1];
          if (next !== 0x00 && next !== 0xff && !(next >= 0xd0 && next <= 0xd7)) break;
        }
        at++;
      }
      if (at + 1 >= bytes.length) fail('JPEG is truncated: its scan data runs to the end of the file');
      scanBytes += at - start;
    }
  }
  if (!frame) fail('JPEG has no frame header (SOF marker)');
  // Every 8×8 block's DC term takes a Huffman code of at least one bit, in baseline and
  // progressive alike: a header claiming far more pixels than the data can hold is refused
  // before jpeg-js allocates its blocks.
  const minBytes = Math.floor(blockCount(frame) / 8);
  if (scanBytes < minBytes) {
    fail(`JPEG claims ${frame.width}×${frame.height} pixels but holds ${scanBytes} bytes of image data; that size needs at least ${minBytes}`);
  }
  return { ...frame, orientation };
}

/**
 * Decodes a baseline or progressive JPEG to luminance (see color.ts for the luma weights), and
 * with `color` a colour JPEG (3 components YCbCr/RGB, or 4 with an Adobe marker: CMYK/YCCK,
 * converted by jpeg-js) also to RGB.
 */
export function decodeJpeg(bytes: Uint8Array, limits: Required<ImageLimits>, color = false): DecodedImage {
  const header = readJpegHeader(bytes, limits);
  let rgb: Uint8Array;
  try {
    const out = decodeJpegLib(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: limits.maxPixels / 1e6,
      maxMemoryUsageInMB: limits.maxDecodeMemory / (1024 * 1024),
      dcOnly: header.dctScale === 8,
    });
    if (out.width !== Math.ceil(header.width / header.dctScale) || out.height !== Math.ceil(header.height / header.dctScale)) {
      fail(`JPEG decoded to ${out.width}×${out.height}, its header says ${header.width}×${header.height}${header.dctScale === 8 ? ' (1/8 scale)' : ''}`);
    }
    rgb = out.data;
  } catch (err) {
    if (err instanceof ImageError) throw err;
    const message = (err as Error)?.message ?? String(err);
    if (/limit exceeded/.test(message)) {
      throw new ImageError('image_too_large', `JPEG needs more memory to decode than allowed: ${message}`, { cause: err });
    }
    if (/Unsupported color mode/.test(message)) {
      throw new ImageError('unsupported_format', `JPEG colour model is not supported (${header.sampling.length} components without an Adobe marker?): ${message}`, { cause: err });
    }
    fail(`JPEG could not be decoded: ${message}`, err);
  }
  const width = Math.ceil(header.width / header.dctScale), height = Math.ceil(header.height / header.dctScale);
  const n = width * height;
  if (rgb.length !== 3 * n) fail(`JPEG decoded to ${rgb.length} samples, expected ${3 * n}`);
  const gray = new Uint8Array(n);
  for (let i = 0; i < n; i++) gray[i] = lumaOverBlack(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255);
  const upright = applyOrientation(gray, width, height, header.orientation);
  const colour = color && header.sampling.length >= 3
    ? { rgb: applyOrientation(rgb, width, height, header.orientation, 3).gray }
    : {};
  return {
    ...upright, ...colour, hadAlpha: false, format: 'jpeg', orientation: header.orientation,
    ...(header.dctScale === 8 ? { dctScale: 8 as const } : {}),
  };
}
