/*
 * Large PNGs at 1/8 scale, row-streamed: the IDAT stream is inflated a step at a time and
 * unfiltered a row at a time, up to eight rows make a strip, the strip goes through the same
 * pixel conversion as a full decode (png.ts: 16-bit reduction, palette, tRNS, alpha over black),
 * and each pixel is added to the sum of its 8×8 block; each block becomes its rounded mean.
 * Nothing full-size is ever held: memory is the file, one inflate step, two rows, one strip and
 * the small image with its sums. fast-png decodes whole images only (its inflated data,
 * concatenation and unfiltered copy are ≈ 5 × the raw data), hence this.
 * An Adam7-interlaced PNG is seven sub-images (passes) stored one after another, each with its
 * own rows, filter bytes and previous row; its pixels are added at their true positions, so it
 * decodes to exactly what the same pixels saved non-interlaced do. Sub-byte depths (1, 2, 4 bits)
 * work the same way here, interlaced or not: each pass row is packed and starts on a byte.
 */
import { Unzlib } from 'fflate';
import type { DecodedPng } from 'fast-png';
import { ImageError } from './errors.ts';
import type { PngHeader } from './png.ts';

function fail(message: string, cause?: unknown): never {
  throw new ImageError('undecodable_image', message, cause === undefined ? undefined : { cause });
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const INFLATE_STEP = 8 * 1024;
export const SCALE = 8;

/** Adam7's passes as [x0, y0, dx, dy]: pass pixel (i, j) is image pixel (x0 + i·dx, y0 + j·dy). */
const ADAM7: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
];

/** One sub-image of the stored data: its Adam7 pass (1–7), placement in the image, size and row length in bytes. */
export interface PngPass { n: number; x0: number; y0: number; dx: number; dy: number; width: number; rows: number; stride: number }

/**
 * The sub-images the image data holds, in order: the whole image, or Adam7's non-empty passes
 * (a pass is empty, and has no rows at all in the data, when the image is too small to reach it).
 */
export function pngPasses(h: PngHeader): PngPass[] {
  const bits = CHANNELS[h.colorType] * h.depth;
  const table = h.interlaced ? ADAM7 : [[0, 0, 1, 1] as const];
  const out: PngPass[] = [];
  table.forEach(([x0, y0, dx, dy], i) => {
    const width = Math.ceil((h.width - x0) / dx), rows = Math.ceil((h.height - y0) / dy);
    if (width > 0 && rows > 0) out.push({ n: i + 1, x0, y0, dx, dy, width, rows, stride: Math.ceil((width * bits) / 8) });
  });
  return out;
}

/** A strip's pixel conversion (png.ts's pngToGray), writing into the buffers it is given. */
type Convert = (png: DecodedPng, header: PngHeader, into: { gray: Uint8Array; rgb?: Uint8Array }) => { gray: Uint8Array; rgb?: Uint8Array; hadAlpha: boolean };

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Working memory of a scaled decode: the file, an inflate step's output, rows, a strip, the small image and its sums. */
export function pngScaledDecodeMemory(h: PngHeader, fileBytes: number): number {
  const rowBytes = Math.ceil((h.width * CHANNELS[h.colorType] * h.depth) / 8);
  const small = Math.ceil(h.width / SCALE) * Math.ceil(h.height / SCALE);
  return fileBytes + 8 * 1024 * 1024 + 2 * rowBytes + SCALE * (rowBytes * 2 + h.width * 4) + small * 12 + 64 * 1024;
}

/**
 * Decodes a PNG, interlaced or not, at 1/8 scale (ceil(width / 8) × ceil(height / 8)); `convert`
 * is the full decode's own pixel conversion, applied strip by strip (it returns RGB exactly when
 * `color` is set).
 */
export function decodePngScaled(
  bytes: Uint8Array, header: PngHeader, idat: [number, number][],
  palette: DecodedPng['palette'], transparency: DecodedPng['transparency'],
  color: boolean, convert: Convert,
): { width: number; height: number; gray: Uint8Array; rgb?: Uint8Array; hadAlpha: boolean } {
  const { width: w, height: h, depth, colorType, interlaced } = header;
  const channels = CHANNELS[colorType];
  const bpp = Math.max(1, (channels * depth) >> 3);
  const passes = pngPasses(header);
  const maxStride = Math.max(...passes.map((p) => p.stride));
  const totalRows = passes.reduce((n, p) => n + p.rows, 0);
  const packed = depth < 8;
  const W = Math.ceil(w / SCALE), H = Math.ceil(h / SCALE);
  // Sums of each block's 8-bit values: at most 64 × 255, so 16 bits hold them exactly.
  const sumG = new Uint16Array(W * H), sumC = color ? new Uint16Array(3 * W * H) : undefined;
  let hadAlpha = false;

  // The strip as fast-png lays out its data: packed rows of bytes, or one sample per entry.
  const stripData = packed ? new Uint8Array(SCALE * maxStride) : depth === 16 ? new Uint16Array(SCALE * w * channels) : new Uint8Array(SCALE * w * channels);
  const rowA = new Uint8Array(maxStride), rowB = new Uint8Array(maxStride);
  // The strip's converted pixels, one buffer for every strip: per-strip arrays would be garbage
  // that, uncollected, grows the decode's memory by tens of MB.
  const into = { gray: new Uint8Array(SCALE * w), rgb: color ? new Uint8Array(3 * SCALE * w) : undefined };
  let pass = passes[0], p = 0;
  let prev = rowA.subarray(0, pass.stride), cur = rowB.subarray(0, pass.stride);
  // `row` counts the current pass's rows, `done` all rows; the strip holds rows row - stripRows .. row - 1.
  let filter = -1, filled = 0, row = 0, done = 0, stripRows = 0;

  const flushStrip = () => {
    const pw = pass.width;
    const out = convert({ width: pw, height: stripRows, depth, channels, data: stripData.subarray(0, packed ? stripRows * pass.stride : stripRows * pw * channels), palette, transparency } as DecodedPng,
      { ...header, width: pw, height: stripRows }, into);
    if (out.hadAlpha) hadAlpha = true;
    for (let r = 0; r < stripRows; r++) {
      const Y = ((pass.y0 + (row - stripRows + r) * pass.dy) / SCALE) | 0;
      for (let i = 0, at = r * pw; i < pw; i++, at++) {
        const b = Y * W + (((pass.x0 + i * pass.dx) / SCALE) | 0);
        sumG[b] += out.gray[at];
        if (sumC) { sumC[3 * b] += out.rgb![3 * at]; sumC[3 * b + 1] += out.rgb![3 * at + 1]; sumC[3 * b + 2] += out.rgb![3 * at + 2]; }
      }
    }
    stripRows = 0;
  };

  const finishRow = () => {
    const stride = pass.stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      const x = cur[i];
      switch (filter) {
        case 0: break;
        case 1: cur[i] = (x + a) & 255; break;
        case 2: cur[i] = (x + b) & 255; break;
        case 3: cur[i] = (x + ((a + b) >> 1)) & 255; break;
        case 4: cur[i] = (x + paeth(a, b, c)) & 255; break;
        default: fail(`PNG ${interlaced ? `interlace pass ${pass.n} ` : ''}row ${row} has unknown filter type ${filter}`);
      }
    }
    if (depth === 16) {
      const base = stripRows * pass.width * channels;
      for (let i = 0; i < pass.width * channels; i++) stripData[base + i] = (cur[2 * i] << 8) | cur[2 * i + 1];
    } else (stripData as Uint8Array).set(cur, stripRows * stride);
    [prev, cur] = [cur, prev];
    row++;
    done++;
    stripRows++;
    filter = -1;
    filled = 0;
    if (stripRows === SCALE || row === pass.rows) flushStrip();
    if (row === pass.rows && ++p < passes.length) {
      // The next pass starts afresh: its first row's "previous row" is all zeros.
      pass = passes[p];
      row = 0;
      prev = rowA.subarray(0, pass.stride).fill(0);
      cur = rowB.subarray(0, pass.stride);
    }
  };

  const inflater = new Unzlib((chunk) => {
    for (let at = 0; at < chunk.length;) {
      if (done >= totalRows) {
        if (chunk.length - at > 64 * 1024) fail(`PNG image data inflates to more than its ${totalRows} rows`);
        return;
      }
      if (filter < 0) { filter = chunk[at++]; continue; }
      const take = Math.min(pass.stride - filled, chunk.length - at);
      cur.set(chunk.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === pass.stride) finishRow();
    }
  });
  try {
    for (const [start, end] of idat) {
      for (let at = start; at < end; at += INFLATE_STEP) inflater.push(bytes.subarray(at, Math.min(end, at + INFLATE_STEP)), false);
    }
    inflater.push(new Uint8Array(0), true);
  } catch (err) {
    if (err instanceof ImageError) throw err;
    fail(`PNG image data is corrupt: ${(err as Error).message}`, err);
  }
  if (done < totalRows) fail(`PNG image data is truncated: it holds ${done} of its ${totalRows} rows`);

  // Means rounded half up, as every reduction in lib/image rounds; edge blocks hold fewer pixels.
  const gray = new Uint8Array(W * H), rgb = sumC ? new Uint8Array(3 * W * H) : undefined;
  for (let Y = 0; Y < H; Y++) {
    const rows = Math.min(SCALE, h - Y * SCALE);
    for (let X = 0; X < W; X++) {
      const n = rows * Math.min(SCALE, w - X * SCALE), b = Y * W + X;
      gray[b] = Math.floor((2 * sumG[b] + n) / (2 * n));
      if (rgb) for (let c = 0; c < 3; c++) rgb[3 * b + c] = Math.floor((2 * sumC![3 * b + c] + n) / (2 * n));
    }
  }
  return { width: W, height: H, gray, rgb, hadAlpha };
}
