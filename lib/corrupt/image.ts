/** The image type the corruptions take and give, and the float plane they work in. */

/** [height × width × channels] row-major, channels interleaved (HWC), 0..255. */
export interface ImageU8 {
  data: Uint8Array;
  height: number;
  width: number;
  channels: 1 | 3;
}

/** A corruption's implementation: the image, the severity (already checked), a seeded stream of uniforms in [0, 1). */
export type CorruptFn = (image: ImageU8, severity: number, rand: () => number) => ImageU8;

/** The reference code works on floats in [0, 1]; so do we. Same layout as `image.data`. */
export function toUnit(image: ImageU8): Float64Array {
  const out = new Float64Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = image.data[i] / 255;
  return out;
}

/** Back to bytes: clip to [0, 1], scale by 255 and round to nearest (the reference code clips the same way). */
export function fromUnit(x: ArrayLike<number>, like: ImageU8): ImageU8 {
  const data = new Uint8Array(x.length);
  for (let i = 0; i < data.length; i++) {
    const v = x[i];
    data[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
  }
  return { data, height: like.height, width: like.width, channels: like.channels };
}

export function withData(like: ImageU8, data: Uint8Array): ImageU8 {
  return { data, height: like.height, width: like.width, channels: like.channels };
}

/** ITU-R 709 luma weights, as skimage's rgb2gray: used where the reference works on one plane only. */
export function luminance(image: ImageU8): Float64Array {
  const n = image.height * image.width;
  const out = new Float64Array(n);
  const d = image.data;
  if (image.channels === 1) {
    for (let i = 0; i < n; i++) out[i] = d[i] / 255;
  } else {
    for (let i = 0; i < n; i++) out[i] = (0.2125 * d[3 * i] + 0.7154 * d[3 * i + 1] + 0.0721 * d[3 * i + 2]) / 255;
  }
  return out;
}

/** A random integer in [lo, hi) — numpy's randint(lo, hi). */
export function randint(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo));
}

/** ±1 with equal odds — np.random.choice([-1, 1]). */
export function randomSign(rand: () => number): number {
  return rand() < 0.5 ? -1 : 1;
}
