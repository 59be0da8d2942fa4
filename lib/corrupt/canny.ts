/**
 * canny_edges — the image replaced by its Canny edge map, 255 on edges and 0 elsewhere. Mu &
 * Gilmer 2019, MNIST-C corruptions.py: skimage.feature.canny(x) with its defaults — σ = 1, low
 * and high thresholds 0.1 and 0.2 on the Sobel gradient magnitude of x in [0, 1]. One severity,
 * no randomness. Colour images are reduced to luminance first (skimage's canny takes one plane);
 * the edge map is written to every channel.
 *
 * Steps as skimage does them: gaussian smoothing with zeros outside, divided by the smoothed
 * all-ones mask (so the border is not darkened); Sobel gradients (scipy's, reflect border);
 * the one-pixel border dropped (the eroded mask); non-maximum suppression interpolating the
 * magnitude between the two neighbours in the gradient's octant; hysteresis keeping the 8-connected
 * groups of ≥ low maxima that hold a ≥ high one.
 */
import { convolve1d, gaussianBlur } from './filters.ts';
import { type CorruptFn, luminance, withData } from './image.ts';

/** The smoothed all-ones mask, the same for every image of a size: kept per (w, h, σ). */
const bleeds = new Map<string, Float64Array>();
function bleedOver(w: number, h: number, sigma: number): Float64Array {
  const key = `${w}×${h}/${sigma}`;
  let b = bleeds.get(key);
  if (!b) {
    b = gaussianBlur(new Float64Array(w * h).fill(1), w, h, 1, sigma, 'constant');
    if (bleeds.size > 16) bleeds.clear();
    bleeds.set(key, b);
  }
  return b;
}

export function cannyEdges(plane: Float64Array, w: number, h: number, sigma = 1, low = 0.1, high = 0.2): Uint8Array {
  const bleed = bleedOver(w, h, sigma);
  const blurred = gaussianBlur(plane, w, h, 1, sigma, 'constant');
  const smooth = new Float64Array(w * h);
  for (let i = 0; i < smooth.length; i++) smooth[i] = blurred[i] / (bleed[i] + 2.220446049250313e-16);
  // scipy.ndimage.sobel(axis=0) (its 'reflect' border is 'nearest' for three taps): derivative [-1, 0, 1] down the rows, smoothing [1, 2, 1] along them.
  const gi = convolve1d(convolve1d(smooth, w, h, 1, [-1, 0, 1], 'y', 'nearest'), w, h, 1, [1, 2, 1], 'x', 'nearest');
  const gj = convolve1d(convolve1d(smooth, w, h, 1, [-1, 0, 1], 'x', 'nearest'), w, h, 1, [1, 2, 1], 'y', 'nearest');
  const mag = new Float64Array(w * h);
  for (let i = 0; i < mag.length; i++) mag[i] = Math.sqrt(gi[i] * gi[i] + gj[i] * gj[i]);
  const M = (r: number, c: number) => mag[r * w + c];
  const maxima = new Uint8Array(w * h);
  for (let r = 1; r < h - 1; r++) {
    for (let c = 1; c < w - 1; c++) {
      const p = r * w + c;
      const i = gi[p], j = gj[p], ai = Math.abs(i), aj = Math.abs(j), m = mag[p];
      let keep = false;
      // The four octant pairs in skimage's order; a pixel on a boundary takes the last that applies.
      if (((i >= 0 && j >= 0) || (i <= 0 && j <= 0)) && ai >= aj) {
        const wgt = aj / ai;
        keep = M(r + 1, c + 1) * wgt + M(r + 1, c) * (1 - wgt) <= m && M(r - 1, c - 1) * wgt + M(r - 1, c) * (1 - wgt) <= m;
      }
      if (((i >= 0 && j >= 0) || (i <= 0 && j <= 0)) && ai <= aj) {
        const wgt = ai / aj;
        keep = M(r + 1, c + 1) * wgt + M(r, c + 1) * (1 - wgt) <= m && M(r - 1, c - 1) * wgt + M(r, c - 1) * (1 - wgt) <= m;
      }
      if (((i <= 0 && j >= 0) || (i >= 0 && j <= 0)) && ai <= aj) {
        const wgt = ai / aj;
        keep = M(r - 1, c + 1) * wgt + M(r, c + 1) * (1 - wgt) <= m && M(r + 1, c - 1) * wgt + M(r, c - 1) * (1 - wgt) <= m;
      }
      if (((i <= 0 && j >= 0) || (i >= 0 && j <= 0)) && ai >= aj) {
        const wgt = aj / ai;
        keep = M(r - 1, c + 1) * wgt + M(r - 1, c) * (1 - wgt) <= m && M(r + 1, c - 1) * wgt + M(r + 1, c) * (1 - wgt) <= m;
      }
      // A zero gradient gives 0/0 weights in skimage too: NaN comparisons, never a maximum.
      if (keep && m > 0) maxima[p] = m >= high ? 2 : m >= low ? 1 : 0;
    }
  }
  const edges = new Uint8Array(w * h);
  const stack: number[] = [];
  for (let p = 0; p < maxima.length; p++) if (maxima[p] === 2 && !edges[p]) { edges[p] = 1; stack.push(p); }
  while (stack.length) {
    const p = stack.pop()!;
    const r = Math.floor(p / w), c = p % w;
    for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) {
      const rr = r + dr, cc = c + dc;
      if (rr < 0 || rr >= h || cc < 0 || cc >= w) continue;
      const q = rr * w + cc;
      if (maxima[q] && !edges[q]) { edges[q] = 1; stack.push(q); }
    }
  }
  return edges;
}

export const canny: CorruptFn = (image) => {
  const { width: w, height: h, channels: ch } = image;
  const edges = cannyEdges(luminance(image), w, h);
  const out = new Uint8Array(w * h * ch);
  for (let p = 0; p < edges.length; p++) if (edges[p]) out.fill(255, p * ch, p * ch + ch);
  return withData(image, out);
};
