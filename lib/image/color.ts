/*
 * Colour to luminance, composited over black.
 *
 * Luma uses ITU-R BT.601 weights 0.299 R + 0.587 G + 0.114 B in the 16-bit fixed point that PIL's
 * `Image.convert('L')` uses (19595, 38470, 7471; they sum to 65536), rounded half up as PIL does:
 * Fashion-MNIST-style data is usually made with PIL, and a grey pixel (R = G = B) stays exactly
 * itself. Transparent pixels are composited over black because black (0) is the dataset's
 * background: a cut-out object on a transparent canvas then looks like a dataset image.
 * All arithmetic is on exact integers below 2^53, so results do not depend on the runtime.
 */

const WR = 19595;
const WG = 38470;
const WB = 7471;
const LUMA_ONE = 65536;
const DEN = LUMA_ONE * 255;

/** round(luma(r, g, b) · a / 255) for 8-bit samples; with a = 255 it is exactly PIL's convert('L'). */
export function lumaOverBlack(r: number, g: number, b: number, a: number): number {
  const n = (r * WR + g * WG + b * WB) * a;
  return Math.floor((2 * n + DEN) / (2 * DEN));
}

/** round(v · a / 255) for an 8-bit grey sample v with 8-bit alpha a. */
export function grayOverBlack(v: number, a: number): number {
  return Math.floor((2 * v * a + 255) / 510);
}

/** A 16-bit sample to 8 bits, round(v / 257): the exact inverse of the usual 8→16 widening v · 257. */
export function to8bit(v16: number): number {
  return Math.floor((v16 + 128) / 257);
}
