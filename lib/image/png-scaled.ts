/*
 * Large PNGs at 1/8 scale, row-streamed: the IDAT stream is inflated a step at a time and
 * unfiltered a row at a time, eight rows make a strip, the strip goes through the same pixel
 * conversion as a full decode (png.ts: 16-bit reduction, palette, tRNS, alpha over black), and
 * each 8×8 block becomes its mean. Nothing full-size is ever held: memory is the file, one
 * inflate step, two rows, one strip and the small image. fast-png decodes whole images only
 * (its inflated data, concatenation and unfiltered copy are ≈ 5 × the raw data), hence this.
 * Interlaced PNGs (Adam7 passes cannot be streamed row by row) keep the full-size decode.
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

/** What a strip's pixel conversion returns (png.ts's pngToGray). */
type Convert = (png: DecodedPng, header: PngHeader) => { gray: Uint8Array; rgb?: Uint8Array; hadAlpha: boolean };

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Working memory of a scaled decode: the file, an inflate step's output, rows, a strip, the small image. */
export function pngScaledDecodeMemory(h: PngHeader, fileBytes: number): number {
  const rowBytes = Math.ceil((h.width * CHANNELS[h.colorType] * h.depth) / 8);
  const small = Math.ceil(h.width / SCALE) * Math.ceil(h.height / SCALE);
  return fileBytes + 8 * 1024 * 1024 + 2 * rowBytes + SCALE * (rowBytes * 2 + h.width * 4) + small * 8 + 64 * 1024;
}

/**
 * Decodes a non-interlaced PNG at 1/8 scale (ceil(width / 8) × ceil(height / 8)); `convert` is
 * the full decode's own pixel conversion, applied strip by strip (it returns RGB exactly when
 * `color` is set).
 */
export function decodePngScaled(
  bytes: Uint8Array, header: PngHeader, idat: [number, number][],
  palette: DecodedPng['palette'], transparency: DecodedPng['transparency'],
  color: boolean, convert: Convert,
): { width: number; height: number; gray: Uint8Array; rgb?: Uint8Array; hadAlpha: boolean } {
  const { width: w, height: h, depth, colorType } = header;
  const channels = CHANNELS[colorType];
  const bpp = Math.max(1, (channels * depth) >> 3);
  const stride = Math.ceil((w * channels * depth) / 8);
  const packed = depth < 8;
  const W = Math.ceil(w / SCALE), H = Math.ceil(h / SCALE);
  const gray = new Uint8Array(W * H);
  const rgb = color ? new Uint8Array(3 * W * H) : undefined;
  let hadAlpha = false;

  // The strip as fast-png lays out its data: packed rows of bytes, or one sample per entry.
  const stripData = packed ? new Uint8Array(SCALE * stride) : depth === 16 ? new Uint16Array(SCALE * w * channels) : new Uint8Array(SCALE * w * channels);
  let prev = new Uint8Array(stride), cur = new Uint8Array(stride);
  let filter = -1, filled = 0, row = 0, stripRows = 0;
  const sumG = new Float64Array(W), sumC = new Float64Array(3 * W), count = new Float64Array(W);

  const flushStrip = () => {
    const out = convert({ width: w, height: stripRows, depth, channels, data: stripData.subarray(0, packed ? stripRows * stride : stripRows * w * channels), palette, transparency } as DecodedPng,
      { ...header, height: stripRows });
    if (out.hadAlpha) hadAlpha = true;
    sumG.fill(0); sumC.fill(0); count.fill(0);
    for (let y = 0; y < stripRows; y++) {
      for (let x = 0; x < w; x++) {
        const X = (x / SCALE) | 0, i = y * w + x;
        sumG[X] += out.gray[i];
        count[X]++;
        if (rgb) { sumC[3 * X] += out.rgb![3 * i]; sumC[3 * X + 1] += out.rgb![3 * i + 1]; sumC[3 * X + 2] += out.rgb![3 * i + 2]; }
      }
    }
    const Y = ((row - 1) / SCALE) | 0;
    // Means rounded half up, as every reduction in lib/image rounds.
    for (let X = 0; X < W; X++) {
      const n = count[X];
      gray[Y * W + X] = Math.floor((2 * sumG[X] + n) / (2 * n));
      if (rgb) for (let c = 0; c < 3; c++) rgb[3 * (Y * W + X) + c] = Math.floor((2 * sumC[3 * X + c] + n) / (2 * n));
    }
    stripRows = 0;
  };

  const finishRow = () => {
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      const x = cur[i];
      switch (filter) {
        case 0: break;
        case 1: cur[i] = (x + a) & 255; break;
        case 2: cur[i] = (x + b) & 255; break;
        case 3: cur[i] = (x + ((a + b) >> 1)) & 255; break;
        case 4: cur[i] = (x + paeth(a, b, c)) & 255; break;
        default: fail(`PNG row ${row} has unknown filter type ${filter}`);
      }
    }
    if (packed) (stripData as Uint8Array).set(cur, stripRows * stride);
    else if (depth === 16) {
      const base = stripRows * w * channels;
      for (let i = 0; i < w * channels; i++) stripData[base + i] = (cur[2 * i] << 8) | cur[2 * i + 1];
    } else (stripData as Uint8Array).set(cur, stripRows * stride);
    [prev, cur] = [cur, prev];
    row++;
    stripRows++;
    filter = -1;
    filled = 0;
    if (stripRows === SCALE || row === h) flushStrip();
  };

  const inflater = new Unzlib((chunk) => {
    for (let at = 0; at < chunk.length;) {
      if (row >= h) {
        if (chunk.length - at > 64 * 1024) fail(`PNG image data inflates to more than its ${h} rows`);
        return;
      }
      if (filter < 0) { filter = chunk[at++]; continue; }
      const take = Math.min(stride - filled, chunk.length - at);
      cur.set(chunk.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === stride) finishRow();
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
  if (row < h) fail(`PNG image data is truncated: it holds ${row} of its ${h} rows`);
  return { width: W, height: H, gray, rgb, hadAlpha };
}
