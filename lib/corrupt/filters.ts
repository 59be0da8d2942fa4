/**
 * The few filters the reference code borrows from scipy, skimage and OpenCV, written out because
 * no runtime-neutral JavaScript library does them with the same border rules (and these run on
 * tiny images, where the border is most of the image). Planes are Float64Array [h × w × ch] HWC.
 */

export type Border = 'nearest' | 'constant' | 'reflect101';

/** Index into 0..n−1 for position i under a border rule; −1 means "zero" (constant). */
function borderIndex(i: number, n: number, border: Border): number {
  if (i >= 0 && i < n) return i;
  if (border === 'constant') return -1;
  if (border === 'nearest' || n === 1) return i < 0 ? 0 : n - 1;
  // OpenCV's BORDER_REFLECT_101: …3 2 1 | 0 1 2 … n−1 | n−2 n−3…
  const period = 2 * (n - 1);
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - j;
  return j;
}

/** A 1-D kernel applied along rows (axis 'x') or columns ('y') of every channel (correlation, centred). */
export function convolve1d(x: Float64Array, w: number, h: number, ch: number, taps: ArrayLike<number>, axis: 'x' | 'y', border: Border): Float64Array {
  // One array type for the hot loops (a plain array here and a Float64Array there would make them polymorphic).
  const kernel = taps instanceof Float64Array ? taps : Float64Array.from(taps);
  const out = new Float64Array(x.length);
  const r = (kernel.length - 1) >> 1;
  const klen = kernel.length;
  const rowLen = w * ch;
  if (axis === 'y') {
    // Whole rows at a time: out row y += kernel[t] · input row (y + t − r).
    for (let y = 0; y < h; y++) {
      const o = y * rowLen;
      for (let t = 0; t < klen; t++) {
        const q = borderIndex(y + t - r, h, border);
        const kt = kernel[t];
        if (q < 0 || kt === 0) continue;
        const src = q * rowLen;
        for (let i = 0; i < rowLen; i++) out[o + i] += kt * x[src + i];
      }
    }
    return out;
  }
  const cols = new Int32Array(w * klen);
  for (let p = 0; p < w; p++) for (let t = 0; t < klen; t++) cols[p * klen + t] = borderIndex(p + t - r, w, border);
  if (ch === 1) {
    for (let y = 0; y < h; y++) {
      const row = y * w;
      for (let xx = 0; xx < w; xx++) {
        if (xx >= r && xx < w - r) {
          // Interior: every tap inside the row, no border lookup.
          let s = 0;
          const from = row + xx - r;
          for (let t = 0; t < klen; t++) s += kernel[t] * x[from + t];
          out[row + xx] = s;
          continue;
        }
        let s = 0;
        const base = xx * klen;
        for (let t = 0; t < klen; t++) {
          const q = cols[base + t];
          if (q >= 0) s += kernel[t] * x[row + q];
        }
        out[row + xx] = s;
      }
    }
    return out;
  }
  for (let y = 0; y < h; y++) {
    const row = y * rowLen;
    for (let xx = 0; xx < w; xx++) {
      const o = row + xx * ch;
      for (let t = 0; t < klen; t++) {
        const q = cols[xx * klen + t];
        if (q < 0) continue;
        const kt = kernel[t];
        const src = row + q * ch;
        for (let k = 0; k < ch; k++) out[o + k] += kt * x[src + k];
      }
    }
  }
  return out;
}

/** scipy.ndimage's gaussian kernel: radius int(truncate·σ + 0.5), weights e^(−t²/2σ²) summing to 1. */
export function gaussianKernel(sigma: number, truncate = 4): Float64Array {
  const key = `${sigma}/${truncate}`;
  const cached = kernels.get(key);
  if (cached) return cached;
  const r = Math.floor(truncate * sigma + 0.5);
  const k = new Float64Array(2 * r + 1);
  let s = 0;
  for (let t = -r; t <= r; t++) s += k[t + r] = Math.exp(-0.5 * (t * t) / (sigma * sigma));
  for (let t = 0; t < k.length; t++) k[t] /= s;
  kernels.set(key, k);
  return k;
}
const kernels = new Map<string, Float64Array>();

/**
 * skimage.filters.gaussian (scipy gaussian_filter per channel, truncate 4, mode 'nearest' by
 * default) — what the reference's glass blur and spatter call.
 */
export function gaussianBlur(x: Float64Array, w: number, h: number, ch: number, sigma: number, border: Border = 'nearest'): Float64Array {
  const k = gaussianKernel(sigma);
  return convolve1d(convolve1d(x, w, h, ch, k, 'y', border), w, h, ch, k, 'x', border);
}

/** A 2-D kernel [kh × kw], centred, as cv2.filter2D (correlation; BORDER_REFLECT_101 by default). */
export function filter2d(x: Float64Array, w: number, h: number, ch: number, kernel: Float64Array, kw: number, kh: number, border: Border = 'reflect101'): Float64Array {
  const out = new Float64Array(x.length);
  const rx = (kw - 1) >> 1, ry = (kh - 1) >> 1;
  const taps: { dx: number; dy: number; v: number }[] = [];
  for (let j = 0; j < kh; j++) for (let i = 0; i < kw; i++) if (kernel[j * kw + i] !== 0) taps.push({ dx: i - rx, dy: j - ry, v: kernel[j * kw + i] });
  for (let yy = 0; yy < h; yy++) {
    for (let xx = 0; xx < w; xx++) {
      for (let k = 0; k < ch; k++) {
        let s = 0;
        for (const t of taps) {
          const sx = borderIndex(xx + t.dx, w, border), sy = borderIndex(yy + t.dy, h, border);
          if (sx < 0 || sy < 0) continue;
          s += t.v * x[(sy * w + sx) * ch + k];
        }
        out[(yy * w + xx) * ch + k] = s;
      }
    }
  }
  return out;
}
