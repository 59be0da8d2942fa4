/**
 * Pixel noise. Each draw is independent per element (pixel × channel), as in the reference code,
 * which adds noise of the array's full shape.
 */
import { gaussian } from '../random.ts';
import { type CorruptFn, fromUnit, withData } from './image.ts';

/**
 * gaussian_noise — x' = clip(x + N(0, c²)), x in [0, 1]. Hendrycks & Dietterich 2019, CIFAR-10-C
 * table (make_cifar_c.py): c = [0.04, 0.06, 0.08, 0.09, 0.10] for severity 1–5.
 */
export const GAUSSIAN_NOISE = [0.04, 0.06, 0.08, 0.09, 0.1];
export const gaussianNoise: CorruptFn = (image, severity, rand) => {
  const c = GAUSSIAN_NOISE[severity - 1];
  const normal = gaussian(rand);
  const d = image.data;
  const out = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = d[i] / 255 + c * normal();
  return fromUnit(out, image);
};

/**
 * shot_noise — x' = clip(Poisson(x·c) / c): photon counting with c photons at full intensity.
 * Mu & Gilmer 2019, MNIST-C corruptions.py: c = [60, 25, 12, 5, 3] (the dataset uses severity 5).
 *
 * The input is bytes, so λ = v·c/255 takes only 256 values: we draw Poisson(λ) by inverting its
 * CDF, tabulated once per (c, v). That is exact, and a binary search instead of Knuth's
 * λ-long product loop per pixel.
 */
export const SHOT_NOISE = [60, 25, 12, 5, 3];
const poissonTables = new Map<number, Float64Array[]>();

function poissonCdfs(c: number): Float64Array[] {
  let tables = poissonTables.get(c);
  if (tables) return tables;
  tables = [];
  for (let v = 0; v < 256; v++) {
    const lambda = (v / 255) * c;
    const cdf: number[] = [];
    // λ ≤ 60 here, so e^-λ does not underflow; stop when the tail is below double precision.
    let p = Math.exp(-lambda);
    let sum = 0;
    for (let k = 0; sum < 1 - 1e-15 && k < 10 * lambda + 50; k++) {
      sum += p;
      cdf.push(sum);
      p *= lambda / (k + 1);
    }
    tables.push(Float64Array.from(cdf));
  }
  poissonTables.set(c, tables);
  return tables;
}

function invert(cdf: Float64Array, u: number): number {
  let lo = 0, hi = cdf.length; // smallest k with u < cdf[k]; cdf.length when u is in the dropped tail
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (u < cdf[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export const shotNoise: CorruptFn = (image, severity, rand) => {
  const c = SHOT_NOISE[severity - 1];
  const tables = poissonCdfs(c);
  const d = image.data;
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const k = invert(tables[d[i]], rand());
    const v = k / c;
    out[i] = v >= 1 ? 255 : Math.round(v * 255);
  }
  return withData(image, out);
};

/**
 * impulse_noise — salt and pepper: each element becomes 0 or 1 (even odds) with probability c,
 * as skimage's random_noise(mode='s&p', amount=c). Mu & Gilmer 2019, MNIST-C corruptions.py:
 * c = [0.03, 0.06, 0.09, 0.17, 0.27] (the dataset uses severity 4).
 */
export const IMPULSE_NOISE = [0.03, 0.06, 0.09, 0.17, 0.27];
export const impulseNoise: CorruptFn = (image, severity, rand) => {
  const c = IMPULSE_NOISE[severity - 1];
  const out = image.data.slice();
  for (let i = 0; i < out.length; i++) {
    if (rand() < c) out[i] = rand() < 0.5 ? 255 : 0;
  }
  return withData(image, out);
};
