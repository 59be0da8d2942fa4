import { ImageError } from './errors.ts';
import { decodeJpeg } from './jpeg.ts';
import { decodePng } from './png.ts';
import { resolveLimits, type DecodedImage, type DecodeOptions, type ImageLimits } from './types.ts';

/** Formats we recognise only to name them in the refusal. */
const OTHER_FORMATS: [string, (b: Uint8Array) => boolean][] = [
  ['a GIF image', (b) => ascii(b, 0, 4) === 'GIF8'],
  ['a WebP image', (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP'],
  ['a BMP image', (b) => ascii(b, 0, 2) === 'BM'],
  ['a TIFF image', (b) => ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*'],
  ['a HEIF or AVIF image', (b) => ascii(b, 4, 4) === 'ftyp'],
  ['text (SVG, HTML or JSON?)', (b) => /^\s*[<{[]/.test(ascii(b, 0, 16))],
];

function ascii(b: Uint8Array, at: number, n: number): string {
  return String.fromCharCode(...b.subarray(at, at + n));
}

export function isPng(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
}

export function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/**
 * Decodes an uploaded PNG or JPEG to one luminance plane (see color.ts), and with
 * `options.color` to RGB as well when the file holds colour, upright (EXIF, see exif.ts). The format comes from the magic bytes (PNG 89 50 4E 47, JPEG FF D8 FF);
 * `contentType` only sharpens the refusal of anything else. Every limit (`limits`, defaults in
 * DEFAULT_LIMITS) is checked from the header before pixels are decoded, and whatever goes wrong
 * with the input surfaces as an `ImageError`, never as a codec's own exception.
 */
export function decodeImage(bytes: Uint8Array, contentType?: string, limits?: ImageLimits, options: DecodeOptions = {}): DecodedImage {
  const lim = resolveLimits(limits);
  if (bytes.length === 0) throw new ImageError('empty_body', 'the request body is empty; send a PNG or JPEG image');
  if (bytes.length > lim.maxBytes) {
    throw new ImageError('image_too_large', `image is ${bytes.length} bytes; the limit is ${lim.maxBytes} bytes`);
  }
  try {
    if (isPng(bytes)) return decodePng(bytes, lim, !!options.color);
    if (isJpeg(bytes)) return decodeJpeg(bytes, lim, !!options.color);
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw new ImageError('undecodable_image', `image could not be decoded: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  const other = OTHER_FORMATS.find(([, test]) => test(bytes))?.[0];
  const head = [...bytes.subarray(0, 4)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
  const declared = contentType ? ` (declared as ${contentType.split(';')[0].trim()})` : '';
  const what = other ? `is ${other}` : `is neither PNG nor JPEG (it starts ${head})`;
  throw new ImageError('unsupported_format', `the body${declared} ${what}; send a PNG or JPEG image`);
}
