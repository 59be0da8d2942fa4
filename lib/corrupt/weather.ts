/** Fog (a plasma fractal added over the image) and spatter (mud blobs). */
import { gaussian } from '../random.ts';
import { gaussianBlur } from './filters.ts';
import { type CorruptFn, fromUnit, toUnit } from './image.ts';

/**
 * The reference's `plasma_fractal(mapsize, wibbledecay)`: diamond–square on a torus (np.roll),
 * each new point the mean of its four neighbours plus wibble·U(−wibble, wibble) — wibble starts
 * at 100 and is divided by `decay` per level, squared amplitude and all, as in the reference —
 * then scaled to [0, 1]. [n × n] row-major, n a power of two.
 */
export function plasmaFractal(n: number, decay: number, rand: () => number): Float64Array {
  const m = new Float64Array(n * n);
  let step = n;
  let wibble = 100;
  const at = (r: number, c: number) => ((r + n) % n) * n + ((c + n) % n);
  const noise = () => wibble * (2 * rand() - 1) * wibble;
  while (step >= 2) {
    const half = step / 2;
    // Squares: the centre of each step×step square from its four corners.
    for (let r = 0; r < n; r += step) for (let c = 0; c < n; c += step) {
      m[at(r + half, c + half)] = (m[at(r, c)] + m[at(r + step, c)] + m[at(r, c + step)] + m[at(r + step, c + step)]) / 4 + noise();
    }
    // Diamonds: edge midpoints from the two centres and two corners beside them.
    for (let r = 0; r < n; r += step) for (let c = half; c < n; c += step) {
      m[at(r, c)] = (m[at(r + half, c)] + m[at(r - half, c)] + m[at(r, c - half)] + m[at(r, c + half)]) / 4 + noise();
    }
    for (let r = half; r < n; r += step) for (let c = 0; c < n; c += step) {
      m[at(r, c)] = (m[at(r, c + half)] + m[at(r, c - half)] + m[at(r - half, c)] + m[at(r + half, c)]) / 4 + noise();
    }
    step = half;
    wibble /= decay;
  }
  let lo = Infinity, hi = -Infinity;
  for (const v of m) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  for (let i = 0; i < m.length; i++) m[i] = (m[i] - lo) / (hi - lo);
  return m;
}

/**
 * fog — x' = clip((x + c·plasma) · max(x) / (max(x) + c)), one fractal for all channels. Mu &
 * Gilmer 2019, MNIST-C corruptions.py: (c, wibbledecay) = [(1.5, 2), (2, 2), (2.5, 1.7),
 * (2.5, 1.5), (3, 1.4)] (the dataset uses severity 5). At small scale: MNIST-C draws a 256×256
 * fractal and keeps its top-left 28×28 (smoother there); like make_cifar_c.py (32 for 32×32) we
 * draw the smallest power of two that covers the image, 256 times less work.
 */
export const FOG: readonly (readonly [number, number])[] = [[1.5, 2], [2, 2], [2.5, 1.7], [2.5, 1.5], [3, 1.4]];
export const fog: CorruptFn = (image, severity, rand) => {
  const [c, decay] = FOG[severity - 1];
  const { width: w, height: h, channels: ch } = image;
  let n = 2;
  while (n < Math.max(w, h)) n *= 2;
  const plasma = plasmaFractal(n, decay, rand);
  const x = toUnit(image);
  let max = 0;
  for (const v of x) max = Math.max(max, v);
  const k = max / (max + c);
  for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) {
    const p = plasma[y * n + xx];
    for (let j = 0; j < ch; j++) {
      const i = (y * w + xx) * ch + j;
      x[i] = (x[i] + c * p) * k;
    }
  }
  return fromUnit(x, image);
};

/**
 * spatter — mud: a liquid layer N(μ, s²) per pixel, gaussian-blurred (σ₁), cut below t; its
 * mask (liquid > t) blurred again (σ₂) and cut below 0.8 gives m; x' = clip(x·(1 − m) + mud·m),
 * mud 63/255 (gray) or (63, 42, 20)/255 (colour, make_cifar_c.py's mud brown). Mu & Gilmer 2019,
 * MNIST-C corruptions.py: (μ, s, σ₁, t, σ₂) = [(0.65, 0.3, 4, 0.69, 0.6), (0.65, 0.3, 3, 0.68, 0.6),
 * (0.65, 0.3, 2, 0.68, 0.5), (0.65, 0.3, 1, 0.65, 1.5), (0.67, 0.4, 1, 0.65, 1.5)] (the dataset
 * uses severity 4; its sixth column, water or mud, is unused there: always mud).
 */
export const SPATTER: readonly (readonly [number, number, number, number, number])[] = [
  [0.65, 0.3, 4, 0.69, 0.6], [0.65, 0.3, 3, 0.68, 0.6], [0.65, 0.3, 2, 0.68, 0.5], [0.65, 0.3, 1, 0.65, 1.5], [0.67, 0.4, 1, 0.65, 1.5],
];
const MUD = [63 / 255, 42 / 255, 20 / 255];
export const spatter: CorruptFn = (image, severity, rand) => {
  const [mu, s, sigma1, t, sigma2] = SPATTER[severity - 1];
  const { width: w, height: h, channels: ch } = image;
  const normal = gaussian(rand);
  const liquid = new Float64Array(w * h);
  for (let i = 0; i < liquid.length; i++) liquid[i] = mu + s * normal();
  const blurred = gaussianBlur(liquid, w, h, 1, sigma1);
  const mask = new Float64Array(w * h);
  for (let i = 0; i < mask.length; i++) mask[i] = blurred[i] > t ? 1 : 0;
  const m = gaussianBlur(mask, w, h, 1, sigma2);
  const x = toUnit(image);
  for (let i = 0; i < m.length; i++) {
    const a = m[i] < 0.8 ? 0 : m[i];
    if (a === 0) continue;
    for (let k = 0; k < ch; k++) x[i * ch + k] = x[i * ch + k] * (1 - a) + (ch === 1 ? MUD[0] : MUD[k]) * a;
  }
  return fromUnit(x, image);
};
