/** Digital corruptions: pixelate (box down- and up-sampling) and JPEG re-encoding. */
import { type CorruptFn, type ImageU8, withData } from './image.ts';

/**
 * Pillow's resize with Image.BOX, one axis at a time (horizontal first, as Pillow does): output
 * pixel i averages the inputs j whose centre offset (j + ½ − centre)/scale lies in (−½, ½],
 * centre = (i + ½)·in/out, the window clipped to the image. Upsampling this way is nearest
 * neighbour. Rounded to bytes after each pass, as Pillow's 8-bit path does.
 */
function boxAxis(src: Uint8Array, w: number, h: number, ch: number, outSize: number, axis: 'x' | 'y'): Uint8Array {
  const inSize = axis === 'x' ? w : h;
  const scale = inSize / outSize;
  const filterScale = Math.max(1, scale);
  const support = 0.5 * filterScale;
  const starts: number[] = [], weights: number[][] = [];
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(centre - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(centre + support + 0.5));
    const ws: number[] = [];
    let total = 0;
    for (let j = lo; j < hi; j++) {
      const t = (j - centre + 0.5) / filterScale;
      const v = t > -0.5 && t <= 0.5 ? 1 : 0;
      ws.push(v);
      total += v;
    }
    starts.push(lo);
    weights.push(ws.map((v) => (total ? v / total : 0)));
  }
  const ow = axis === 'x' ? outSize : w, oh = axis === 'x' ? h : outSize;
  const out = new Uint8Array(ow * oh * ch);
  for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) {
    const i = axis === 'x' ? x : y;
    const ws = weights[i], lo = starts[i];
    for (let k = 0; k < ch; k++) {
      let s = 0;
      for (let t = 0; t < ws.length; t++) {
        const j = lo + t;
        s += ws[t] * src[axis === 'x' ? (y * w + j) * ch + k : (j * w + x) * ch + k];
      }
      out[(y * ow + x) * ch + k] = Math.min(255, Math.round(s));
    }
  }
  return out;
}

export function resizeBox(image: ImageU8, width: number, height: number): ImageU8 {
  const { width: w, height: h, channels: ch } = image;
  const horizontal = width === w ? image.data : boxAxis(image.data, w, h, ch, width, 'x');
  const data = height === h ? horizontal : boxAxis(horizontal, width, h, ch, height, 'y');
  return { data, width, height, channels: ch };
}

/**
 * pixelate — Pillow BOX-resize to ⌊c·size⌋, then back to the size. Hendrycks & Dietterich 2019,
 * CIFAR-10-C table (make_cifar_c.py): c = [0.95, 0.9, 0.85, 0.75, 0.65]. (MNIST-C's code has
 * [0.6, 0.5, 0.4, 0.3, 0.25] and leaves pixelate out of its dataset.)
 */
export const PIXELATE = [0.95, 0.9, 0.85, 0.75, 0.65];
export const pixelate: CorruptFn = (image, severity) => {
  const c = PIXELATE[severity - 1];
  const small = resizeBox(image, Math.max(1, Math.floor(image.width * c)), Math.max(1, Math.floor(image.height * c)));
  return withData(image, resizeBox(small, image.width, image.height).data);
};

// ---- JPEG -------------------------------------------------------------------------------------

/** The JPEG standard's (Annex K) base tables, natural (row-major) order. */
const LUMA_Q = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA_Q = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
  ...new Array(32).fill(99),
];

/** libjpeg's quality scaling (jpeg_quality_scaling + jpeg_add_quant_table with force_baseline). */
export function quantTable(base: readonly number[], quality: number): Float64Array {
  const q = Math.min(100, Math.max(1, quality));
  const scale = q < 50 ? Math.floor(5000 / q) : 200 - 2 * q;
  return Float64Array.from(base, (b) => Math.min(255, Math.max(1, Math.floor((b * scale + 50) / 100))));
}

/** COS[u·8 + x] = C(u)/2 · cos((2x + 1)uπ/16), C(0) = 1/√2: the orthonormal 8-point DCT-II. */
const COS = new Float64Array(64);
for (let u = 0; u < 8; u++) for (let x = 0; x < 8; x++) COS[u * 8 + x] = (u === 0 ? Math.SQRT1_2 : 1) / 2 * Math.cos(((2 * x + 1) * u * Math.PI) / 16);

/**
 * One plane [h × w] (h, w multiples of 8) through the lossy half of JPEG in place: level shift,
 * 8×8 DCT, quantisation round(F/Q), dequantisation, inverse DCT, rounding and clamping to bytes.
 */
function quantizePlane(plane: Float64Array, w: number, h: number, q: Float64Array): void {
  const block = new Float64Array(64), tmp = new Float64Array(64);
  for (let by = 0; by < h; by += 8) for (let bx = 0; bx < w; bx += 8) {
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) block[y * 8 + x] = plane[(by + y) * w + bx + x] - 128;
    // F = C · f · Cᵀ
    for (let u = 0; u < 8; u++) for (let x = 0; x < 8; x++) {
      let s = 0;
      for (let y = 0; y < 8; y++) s += COS[u * 8 + y] * block[y * 8 + x];
      tmp[u * 8 + x] = s;
    }
    for (let u = 0; u < 8; u++) for (let v = 0; v < 8; v++) {
      let s = 0;
      for (let x = 0; x < 8; x++) s += tmp[u * 8 + x] * COS[v * 8 + x];
      const qq = q[u * 8 + v];
      block[u * 8 + v] = Math.round(s / qq) * qq;
    }
    // f = Cᵀ · F · C
    for (let y = 0; y < 8; y++) for (let v = 0; v < 8; v++) {
      let s = 0;
      for (let u = 0; u < 8; u++) s += COS[u * 8 + y] * block[u * 8 + v];
      tmp[y * 8 + v] = s;
    }
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) {
      let s = 0;
      for (let v = 0; v < 8; v++) s += tmp[y * 8 + v] * COS[v * 8 + x];
      const r = Math.round(s + 128);
      plane[(by + y) * w + bx + x] = r < 0 ? 0 : r > 255 ? 255 : r;
    }
  }
}

/** A [h × w] plane padded to [ph × pw] by repeating the last column and row, as libjpeg pads edge blocks. */
function padPlane(src: Float64Array, w: number, h: number, pw: number, ph: number): Float64Array {
  const out = new Float64Array(pw * ph);
  for (let y = 0; y < ph; y++) for (let x = 0; x < pw; x++) out[y * pw + x] = src[Math.min(y, h - 1) * w + Math.min(x, w - 1)];
  return out;
}

const ceilTo = (n: number, m: number) => Math.ceil(n / m) * m;

/**
 * JPEG at `quality`, as Pillow's save(quality=q) then open: grayscale as one luminance component;
 * colour as JFIF YCbCr with Cb, Cr subsampled 2×2 (Pillow's default 4:2:0, libjpeg's averaging
 * with alternating bias) and upsampled back with libjpeg's "fancy" triangle filter.
 *
 * Written by hand rather than with jpeg-js: the entropy coding JPEG adds on top is lossless, so
 * leaving it out changes no pixel and saves most of the time; jpeg-js's encoder returns a Node
 * Buffer where a CommonJS `module` exists (bundled Workers have no Buffer); and it writes only
 * three-component 4:4:4 files, where the reference's Pillow writes one-component grayscale and
 * 4:2:0 colour. The test checks this against a jpeg-js encode → decode round trip.
 */
export function jpegRoundTrip(image: ImageU8, quality: number): ImageU8 {
  const { width: w, height: h, channels: ch, data } = image;
  const lq = quantTable(LUMA_Q, quality);
  if (ch === 1) {
    const pw = ceilTo(w, 8), ph = ceilTo(h, 8);
    const plane = padPlane(Float64Array.from(data), w, h, pw, ph);
    quantizePlane(plane, pw, ph, lq);
    const out = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = plane[y * pw + x];
    return withData(image, out);
  }
  const cq = quantTable(CHROMA_Q, quality);
  const n = w * h;
  const Y = new Float64Array(n), Cb = new Float64Array(n), Cr = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = data[3 * i], g = data[3 * i + 1], b = data[3 * i + 2];
    Y[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    Cb[i] = Math.round(-0.168736 * r - 0.331264 * g + 0.5 * b + 128);
    Cr[i] = Math.round(0.5 * r - 0.418688 * g - 0.081312 * b + 128);
  }
  // Luma in 8×8 blocks over an MCU-aligned (16) area; chroma at half size, also in whole blocks.
  const pw = ceilTo(w, 16), ph = ceilTo(h, 16);
  const yPlane = padPlane(Y, w, h, pw, ph);
  quantizePlane(yPlane, pw, ph, lq);
  const cw = pw / 2, chh = ph / 2;
  const chroma = [Cb, Cr].map((full) => {
    const padded = padPlane(full, w, h, pw, ph);
    const small = new Float64Array(cw * chh);
    for (let y = 0; y < chh; y++) for (let x = 0; x < cw; x++) {
      const bias = x % 2 === 0 ? 1 : 2;
      const s = padded[2 * y * pw + 2 * x] + padded[2 * y * pw + 2 * x + 1] + padded[(2 * y + 1) * pw + 2 * x] + padded[(2 * y + 1) * pw + 2 * x + 1];
      small[y * cw + x] = (s + bias) >> 2;
    }
    quantizePlane(small, cw, chh, cq);
    return fancyUpsample(small, cw, chh, Math.ceil(w / 2), Math.ceil(h / 2));
  });
  const out = new Uint8Array(n * 3);
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const yy = yPlane[y * pw + x], cb = chroma[0][y * 2 * cw + x] - 128, cr = chroma[1][y * 2 * cw + x] - 128;
    const i = (y * w + x) * 3;
    out[i] = clamp(yy + 1.402 * cr);
    out[i + 1] = clamp(yy - 0.344136 * cb - 0.714136 * cr);
    out[i + 2] = clamp(yy + 1.772 * cb);
  }
  return withData(image, out);
}

/**
 * libjpeg's h2v2_fancy_upsample: each output sample weighs its chroma sample 9/16, the nearer
 * horizontal and vertical neighbours 3/16 each and the diagonal 1/16, edges repeated; over the
 * first usedW × usedH samples (the image's own), into [2·cw × 2·ch] row-major.
 */
function fancyUpsample(src: Float64Array, cw: number, ch: number, usedW: number, usedH: number): Float64Array {
  const ow = 2 * cw;
  const out = new Float64Array(ow * 2 * ch);
  const at = (y: number, x: number) => src[Math.min(Math.max(y, 0), usedH - 1) * cw + Math.min(Math.max(x, 0), usedW - 1)];
  for (let y = 0; y < usedH; y++) {
    for (const [dy, oy] of [[-1, 2 * y], [1, 2 * y + 1]]) {
      const col = (x: number) => 3 * at(y, x) + at(y + dy, x);
      for (let x = 0; x < usedW; x++) {
        const here = col(x);
        if (usedW === 1) {
          out[oy * ow + 2 * x] = (here * 4 + 8) >> 4;
          out[oy * ow + 2 * x + 1] = (here * 4 + 7) >> 4;
          continue;
        }
        out[oy * ow + 2 * x] = x === 0 ? (here * 4 + 8) >> 4 : (here * 3 + col(x - 1) + 8) >> 4;
        out[oy * ow + 2 * x + 1] = x === usedW - 1 ? (here * 4 + 7) >> 4 : (here * 3 + col(x + 1) + 7) >> 4;
      }
    }
  }
  return out;
}

/**
 * jpeg_compression — JPEG at quality q. Hendrycks & Dietterich 2019, CIFAR-10-C table
 * (make_cifar_c.py): q = [80, 65, 58, 50, 40]. (MNIST-C's code has [25, 18, 15, 10, 7] and
 * leaves JPEG out of its dataset.)
 */
export const JPEG_QUALITY = [80, 65, 58, 50, 40];
export const jpegCompression: CorruptFn = (image, severity) => jpegRoundTrip(image, JPEG_QUALITY[severity - 1]);
