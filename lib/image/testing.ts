/* Seeded images, hand-built PNG chunks and small JPEG fixtures for the lib/image tests. */
import { encode as encodePngLib, type ImageData } from 'fast-png';
import { mulberry32 } from '../random.ts';

/** n random uint8 values from a seed. */
export function randomGray(n: number, seed: number): Uint8Array {
  const rand = mulberry32(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
}

/** A PNG through fast-png's encoder (which takes the sample layout of `ImageData`). */
export function pngOf(image: ImageData, interlace: 'null' | 'Adam7' = 'null'): Uint8Array {
  return encodePngLib(image, { interlace });
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function u32be(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

/** One chunk: length, type, data, CRC. */
export function pngChunk(type: string, data: Uint8Array | number[] = []): Uint8Array {
  const body = Uint8Array.from([...type].map((c) => c.charCodeAt(0)).concat([...data]));
  return Uint8Array.from([...u32be(body.length - 4), ...body, ...u32be(crc32(body))]);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** An IHDR chunk: 8-bit depth and grey colour type unless given. */
export function ihdr(width: number, height: number, depth = 8, colorType = 0, interlace = 0): Uint8Array {
  return pngChunk('IHDR', [...u32be(width), ...u32be(height), depth, colorType, 0, 0, interlace]);
}

/** Adam7's passes as [x0, y0, dx, dy], written out here independently of the decoder's table. */
const ADAM7_PASSES = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * A PNG's uncompressed image data (what IDAT inflates to) from the image's rows, `rowOf(y)`
 * holding row y's samples packed as a non-interlaced file stores them (`bitsPerPixel` each).
 * Each row of the image, or with `interlaced` of each Adam7 pass, gets the filter type
 * `filterOf(row, pass)` (row within its pass, pass 0–6; default 0, none) and is predicted from
 * the previous row of the same pass. fast-png's own encoder writes neither filters nor
 * interlaced sub-byte samples, hence this.
 */
export function pngImageData(width: number, height: number, bitsPerPixel: number, rowOf: (y: number) => Uint8Array,
  { interlaced = false, filterOf = () => 0 }: { interlaced?: boolean; filterOf?: (row: number, pass: number) => number } = {}): Uint8Array {
  const passes = interlaced ? ADAM7_PASSES : [[0, 0, 1, 1]];
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const parts: Uint8Array[] = [];
  passes.forEach(([x0, y0, dx, dy], pass) => {
    const pw = Math.ceil((width - x0) / dx), rows = Math.ceil((height - y0) / dy);
    if (pw <= 0 || rows <= 0) return;
    const stride = Math.ceil((pw * bitsPerPixel) / 8);
    let prev: Uint8Array = new Uint8Array(stride);
    for (let j = 0; j < rows; j++) {
      const full = rowOf(y0 + j * dy);
      let cur = full.subarray(0, stride);
      if (interlaced) {
        cur = new Uint8Array(stride);
        for (let i = 0; i < pw; i++) {
          const from = (x0 + i * dx) * bitsPerPixel, to = i * bitsPerPixel;
          if (bitsPerPixel >= 8) for (let k = 0; k < bitsPerPixel >> 3; k++) cur[(to >> 3) + k] = full[(from >> 3) + k];
          else {
            const v = (full[from >> 3] >> (8 - bitsPerPixel - (from & 7))) & ((1 << bitsPerPixel) - 1);
            cur[to >> 3] |= v << (8 - bitsPerPixel - (to & 7));
          }
        }
      }
      const f = filterOf(j, pass), out = new Uint8Array(1 + stride);
      out[0] = f;
      for (let i = 0; i < stride; i++) {
        const a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
        const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : paeth(a, b, c);
        out[1 + i] = (cur[i] - pred) & 255;
      }
      parts.push(out);
      prev = cur;
    }
  });
  return concat(...parts);
}

/** Chunks of a PNG file in order: [offset, type, length] (offset of the length field). */
export function pngChunks(png: Uint8Array): { at: number; type: string; length: number }[] {
  const out = [];
  for (let at = 8; at + 12 <= png.length;) {
    const length = ((png[at] << 24) | (png[at + 1] << 16) | (png[at + 2] << 8) | png[at + 3]) >>> 0;
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    out.push({ at, type, length });
    if (type === 'IEND') break;
    at += 12 + length;
  }
  return out;
}

/** `png` with `chunk` inserted right before its first chunk of type `before`. */
export function insertChunk(png: Uint8Array, chunk: Uint8Array, before = 'IDAT'): Uint8Array {
  const at = pngChunks(png).find((c) => c.type === before)!.at;
  return concat(png.subarray(0, at), chunk, png.subarray(at));
}

/** Recomputes every chunk's CRC (after a deliberate edit of chunk data). */
export function fixCrcs(png: Uint8Array): Uint8Array {
  const out = png.slice();
  for (const { at, length } of pngChunks(out)) {
    if (at + 12 + length > out.length) break;
    const crc = crc32(out.subarray(at + 4, at + 8 + length));
    out.set(u32be(crc), at + 8 + length);
  }
  return out;
}

/** An APP1 payload: "Exif\0\0", a TIFF header and IFD0 holding one orientation entry. */
export function exifPayload(orientation: number, little = true): Uint8Array {
  const u16 = (v: number) => (little ? [v & 255, v >> 8] : [v >> 8, v & 255]);
  const u32 = (v: number) => (little ? [...u16(v & 0xffff), ...u16(v >>> 16)] : [...u16(v >>> 16), ...u16(v & 0xffff)]);
  return Uint8Array.from([
    ...'Exif\0\0'.split('').map((c) => c.charCodeAt(0)),
    ...(little ? [0x49, 0x49] : [0x4d, 0x4d]), ...u16(42), ...u32(8),
    ...u16(1), ...u16(0x0112), ...u16(3), ...u32(1), ...u16(orientation), 0, 0,
    ...u32(0),
  ]);
}

/** `jpeg` with an EXIF APP1 segment (that orientation) right after SOI. */
export function withExif(jpeg: Uint8Array, orientation: number): Uint8Array {
  const payload = exifPayload(orientation);
  const segment = Uint8Array.from([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 255, ...payload]);
  return concat(jpeg.subarray(0, 2), segment, jpeg.subarray(2));
}

export function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** 32×32 JPEGs made with PIL (libjpeg), for the variants jpeg-js's own encoder cannot write. */
export const JPEG_FIXTURES = {
  /** RGB (230, 200, 40) rectangle x 8..23, y 4..27 on black, progressive */
  progressive:
    '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYG' +
    'CAsICQoKCgoKBggLDAsKDAkKCgr/2wBDAQICAgICAgUDAwUKBwYHCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoK' +
    'CgoKCgoKCgoKCgoKCgoKCgoKCgr/wgARCAAgACADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAACAkA/8QAFgEB' +
    'AQEAAAAAAAAAAAAAAAAAAAUH/9oADAMBAAIQAxAAAAGf6/IFfs/qkAgV+kCav0gV+L+QK/IB/8QAFxABAQEBAAAAAAAA' +
    'AAAAAAAAGAAQMP/aAAgBAQABBQKKUUuatlbn/8QAHBEAAQMFAAAAAAAAAAAAAAAAEQABBAMFEhPB/9oACAEDAQE/AbZG' +
    'oyMtjEDqucajHx1sCeK2SaMfLY4I6rnJoyMdbkHi/8QAHhEAAQMEAwAAAAAAAAAAAAAAAQUREgADFDEGIVH/2gAIAQIB' +
    'AT8B50tqaPj4dyMpP0DqLbB9rgq2prGRmXJRi3QG5PoDyudIimsY+HblGT9gbi2yPK4KiKaPkZluMot2DqT6J9r/xAAZ' +
    'EAADAQEBAAAAAAAAAAAAAAA2peMAEDD/2gAIAQEABj8Cx4rrjxXXzA2ksBtJc//EABQQAQAAAAAAAAAAAAAAAAAAAED/' +
    '2gAIAQEAAT8hAiIn/9oADAMBAAIAAwAAABAAAAD/xAAZEQEAAgMAAAAAAAAAAAAAAAABITEAUWH/2gAIAQMBAT8Q4VEp' +
    'cqTWdKiVqFrvOFRC1Kh3nSohLhYaz//EABoRAQABBQAAAAAAAAAAAAAAABEAITFBcZH/2gAIAQIBAT8Q6Y/aUFYWuJwx' +
    '+2oi6FMzhj9tRVkK4nTH7SgLi0zP/8QAFBABAAAAAAAAAAAAAAAAAAAAQP/aAAgBAQABPxADMzf/2Q==',
  /** one-component grey 220 rectangle x 8..23, y 4..27 on black, baseline */
  gray:
    '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYG' +
    'CAsICQoKCgoKBggLDAsKDAkKCgr/wAALCAAgACABAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QA' +
    'tRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0' +
    'NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2' +
    't7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/AP5/6/bj/iDi/wCsjH/mIf8A' +
    '770f8QcX/WRj/wAxD/8AfevxHor+3Civ4j6K/twor+I+iv24/wCIx3/rHP8A+Ze/+9FH/EY7/wBY5/8AzL3/AN6K/Eev' +
    '/9k=',
  /** Adobe CMYK, K = 30 rectangle x 8..23, y 4..27 on K = 255 (black), baseline */
  cmyk:
    '/9j/7gAOQWRvYmUAZAAAAAAA/9sAQwACAQEBAQECAQEBAgICAgIEAwICAgIFBAQDBAYFBgYGBQYGBgcJCAYHCQcGBggL' +
    'CAkKCgoKCgYICwwLCgwJCgoK/8AAFAgAIAAgBEMRAE0RAFkRAEsRAP/EAB8AAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYH' +
    'CAkKC//EALUQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBka' +
    'JSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeo' +
    'qaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAA4EQwBNAFkASwAAPwD9/K/f' +
    'yv38r+f+iiiv3C/4gz/+sj3/AJh//wC+9FFFH/EGf/1ke/8AMP8A/wB96KKK/D2iiiiiiiv7hKKKKKKKK/h7ooooooor' +
    '+4Siiiiiiiv4e6KKKKKKK/cL/iMw/wCscP8A5mD/AO9FFFFH/EZh/wBY4f8AzMH/AN6KKKK/D2v/2Q==',
};
