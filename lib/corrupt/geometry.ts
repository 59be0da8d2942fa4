/**
 * Affine corruptions, as MNIST-C does them with skimage: `transform.warp(x, inverse_map=aff)`,
 * i.e. output pixel (col, row) samples the input at aff(col, row), bilinearly (order 1), with
 * black (cval 0) outside the image. For rotate, shear and scale MNIST-C adds the translation that
 * keeps the image centre fixed (13.5, 13.5 for 28×28; ((w−1)/2, (h−1)/2) in general).
 */
import { type CorruptFn, type ImageU8, randomSign, withData } from './image.ts';

/** Inverse map (output → input): x_in = a·x + b·y + c, y_in = d·x + e·y + f, x = column, y = row. */
export interface Affine { a: number; b: number; c: number; d: number; e: number; f: number }

export function warpAffine(image: ImageU8, m: Affine): ImageU8 {
  const { width: w, height: h, channels: ch, data } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sx = m.a * x + m.b * y + m.c;
      const sy = m.d * x + m.e * y + m.f;
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const fx = sx - x0, fy = sy - y0;
      const in00 = x0 >= 0 && x0 < w && y0 >= 0 && y0 < h;
      const in10 = x0 + 1 >= 0 && x0 + 1 < w && y0 >= 0 && y0 < h;
      const in01 = x0 >= 0 && x0 < w && y0 + 1 >= 0 && y0 + 1 < h;
      const in11 = x0 + 1 >= 0 && x0 + 1 < w && y0 + 1 >= 0 && y0 + 1 < h;
      if (!(in00 || in10 || in01 || in11)) continue;
      const o = (y * w + x) * ch;
      const p00 = (y0 * w + x0) * ch;
      for (let k = 0; k < ch; k++) {
        const v00 = in00 ? data[p00 + k] : 0;
        const v10 = in10 ? data[p00 + ch + k] : 0;
        const v01 = in01 ? data[p00 + w * ch + k] : 0;
        const v11 = in11 ? data[p00 + w * ch + ch + k] : 0;
        const top = (1 - fx) * v00 + fx * v10;
        const bottom = (1 - fx) * v01 + fx * v11;
        const v = (1 - fy) * top + fy * bottom;
        out[o + k] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
      }
    }
  }
  return withData(image, out);
}

/**
 * skimage's AffineTransform(scale=(sx, sy), rotation=r, shear=s) linear part
 * [[sx·cos r, −sy·sin(r + s)], [sx·sin r, sy·cos(r + s)]], plus the translation that fixes the centre.
 */
export function centredAffine(image: ImageU8, { rotation = 0, shear = 0, scale = 1 }: { rotation?: number; shear?: number; scale?: number }): Affine {
  const a = scale * Math.cos(rotation), b = -scale * Math.sin(rotation + shear);
  const d = scale * Math.sin(rotation), e = scale * Math.cos(rotation + shear);
  const cx = (image.width - 1) / 2, cy = (image.height - 1) / 2;
  return { a, b, c: cx - a * cx - b * cy, d, e, f: cy - d * cx - e * cy };
}

export function rotateImage(image: ImageU8, radians: number): ImageU8 {
  return warpAffine(image, centredAffine(image, { rotation: radians }));
}

export function shearImage(image: ImageU8, radians: number): ImageU8 {
  return warpAffine(image, centredAffine(image, { shear: radians }));
}

/** `factor` > 1 samples the input further out, so the content shrinks by 1/factor. */
export function scaleImage(image: ImageU8, factor: number): ImageU8 {
  return warpAffine(image, centredAffine(image, { scale: factor }));
}

/** The inverse map adds (dx, dy), so the content moves by (−dx, −dy), as in MNIST-C. */
export function translateImage(image: ImageU8, dx: number, dy: number): ImageU8 {
  return warpAffine(image, { a: 1, b: 0, c: dx, d: 0, e: 1, f: dy });
}

/**
 * rotate — by ±c radians about the centre, sign drawn at random. Mu & Gilmer 2019, MNIST-C
 * corruptions.py: c = [0.2, 0.4, 0.6, 0.8, 1.0] (the dataset uses severity 2).
 */
export const ROTATE = [0.2, 0.4, 0.6, 0.8, 1.0];
export const rotate: CorruptFn = (image, severity, rand) => rotateImage(image, randomSign(rand) * ROTATE[severity - 1]);

/**
 * shear — skimage shear angle ±c radians about the centre, sign at random. Mu & Gilmer 2019,
 * MNIST-C corruptions.py: c = [0.2, 0.4, 0.6, 0.8, 1.0] (the dataset uses severity 2).
 */
export const SHEAR = [0.2, 0.4, 0.6, 0.8, 1.0];
export const shear: CorruptFn = (image, severity, rand) => shearImage(image, randomSign(rand) * SHEAR[severity - 1]);

/**
 * scale — inverse-map scale 1/c about the centre (the digit shrinks to c of its size). Mu &
 * Gilmer 2019, MNIST-C corruptions.py: c = [0.9, 0.8, 0.7, 0.6, 0.5] (the dataset uses severity 3).
 * No randomness.
 */
export const SCALE = [0.9, 0.8, 0.7, 0.6, 0.5];
export const scale: CorruptFn = (image, severity) => scaleImage(image, 1 / SCALE[severity - 1]);

/**
 * translate — by (±c, ±c) pixels, each sign at random. Mu & Gilmer 2019, MNIST-C corruptions.py:
 * c = [1, 2, 3, 4, 5] (the dataset uses severity 3).
 */
export const TRANSLATE = [1, 2, 3, 4, 5];
export const translate: CorruptFn = (image, severity, rand) => {
  const c = TRANSLATE[severity - 1];
  const dx = c * randomSign(rand);
  const dy = c * randomSign(rand);
  return translateImage(image, dx, dy);
};
