/**
 * Drawn-over corruptions from MNIST-C: stripe (inverted side bands), dotted line, zigzag. MNIST-C
 * defines them for 28×28 with no severity; the constants 7 and 21, 0..27, 2 and 25 become
 * fractions of the size (¼, ¾) and offsets from the edges. Lines are added in white (to every
 * channel, for colour).
 */
import { type CorruptFn, fromUnit, randint, toUnit, withData } from './image.ts';

/**
 * stripe — x' = 255 − x in the left and right quarters (MNIST-C corruptions.py: columns 0–6 and
 * 21–27 of 28). No randomness, one severity.
 */
export const stripe: CorruptFn = (image) => {
  const { width: w, height: h, channels: ch } = image;
  const band = Math.round(w / 4);
  const out = image.data.slice();
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (x >= band && x < w - band) continue;
    for (let k = 0; k < ch; k++) out[(y * w + x) * ch + k] = 255 - out[(y * w + x) * ch + k];
  }
  return withData(image, out);
};

/**
 * MNIST-C's `line_from_points(c0, r0, c1, r1)` over a [h × w] grid: intensity log(1 − d/2.3) + 1
 * clipped to [0, 1], d the vertical distance from the line through the two points (clipped below
 * 2.3), zero left of ⌊c0⌋ and from ⌈c1⌉ on; nothing when c0 = c1.
 */
export function lineFromPoints(w: number, h: number, c0: number, r0: number, c1: number, r1: number): Float64Array {
  const out = new Float64Array(w * h);
  if (c1 === c0) return out;
  const m = (r1 - r0) / (c1 - c0);
  const left = Math.floor(c0), right = Math.ceil(c1);
  for (let c = Math.max(0, left); c < Math.min(w, right); c++) {
    const f = m * (c - c0) + r0;
    for (let r = 0; r < h; r++) {
      const d = Math.min(Math.abs(r - f), 2.3 - 1e-10);
      const v = Math.log(1 - d / 2.3) + 1;
      out[r * w + c] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return out;
}

function addLine(x: Float64Array, line: Float64Array, ch: number): void {
  for (let i = 0; i < line.length; i++) {
    if (line[i] === 0) continue;
    for (let k = 0; k < ch; k++) x[i * ch + k] = Math.min(1, x[i * ch + k] + line[i]);
  }
}

/**
 * dotted_line — a line from (0, r0) to (w − 1, r1), r0, r1 uniform in [0, h − 2], drawn in dashes
 * of two columns on, two off (columns 0–1 off). MNIST-C corruptions.py `dotted_line`. One severity.
 */
export const dottedLine: CorruptFn = (image, _severity, rand) => {
  const { width: w, height: h, channels: ch } = image;
  const r0 = randint(rand, 0, h - 1), r1 = randint(rand, 0, h - 1);
  const line = lineFromPoints(w, h, 0, r0, w - 1, r1);
  for (let c = 0; c < w; c++) if (Math.floor(c / 2) % 2 === 0) for (let r = 0; r < h; r++) line[r * w + c] = 0;
  const x = toUnit(image);
  addLine(x, line, ch);
  return fromUnit(x, image);
};

/**
 * zigzag — from column c0 = 2 to c1 = w − 3, starting at row r0 uniform in [0, h − 2] and ending
 * near r0 + U{−5..4}: a zigzag of teeth a = 2 long and b = 2 high along that slope, each segment
 * drawn with line_from_points, the image clipped after each. MNIST-C corruptions.py `zigzag`,
 * including its odd last point (d, r_i / (2(d − max_c))). One severity.
 */
export const zigzag: CorruptFn = (image, _severity, rand) => {
  const { width: w, height: h, channels: ch } = image;
  const a = 2, b = 2;
  const c0 = 2, c1 = w - 3;
  const r0 = randint(rand, 0, h - 1);
  const r1 = r0 + randint(rand, -5, 5);
  const theta = Math.atan((r1 - r0) / (c1 - c0));
  const d = (c1 - c0) / Math.cos(theta);
  const points: [number, number][] = [[0, 0]];
  let ri = 0;
  const teeth = Math.floor((d - a) / (2 * a)) + 1;
  for (let i = 0; i < teeth; i++) {
    ri = (i % 2 === 0 ? 1 : -1) * b;
    points.push([(2 * i + 1) * a, ri]);
  }
  const maxC = 2 * a * Math.floor(d / (2 * a));
  if (d !== maxC) points.push([d, ri / (2 * (d - maxC))]);
  const cos = Math.cos(theta), sin = Math.sin(theta);
  const pts = points.map(([c, r]) => [cos * c - sin * r + c0, sin * c + cos * r + r0]);
  const x = toUnit(image);
  for (let i = 1; i < pts.length; i++) addLine(x, lineFromPoints(w, h, pts[i - 1][0], pts[i - 1][1], pts[i][0], pts[i][1]), ch);
  return fromUnit(x, image);
};
