/*
 * Dataset fixtures the tests write themselves: a small colour image folder in every format and
 * mode a real one holds, and files in the CIFAR-10 / CIFAR-100 binary layouts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import { fromBase64, JPEG_FIXTURES, pngOf } from '../lib/image/testing.ts';
import { mulberry32 } from '../lib/random.ts';

/** Per class, a base colour: the images are learnable from colour alone. */
const BASE: [number, number, number][] = [[200, 40, 40], [40, 180, 60], [50, 60, 210], [200, 190, 40]];

/** An RGB image [h × w × 3] of class c: its base colour, a lighter blob, and noise. */
export function classImage(c: number, width: number, height: number, seed: number): Uint8Array {
  const rand = mulberry32(seed);
  const [r, g, b] = BASE[c % BASE.length];
  const cx = width * (0.3 + 0.4 * rand()), cy = height * (0.3 + 0.4 * rand()), rad = Math.min(width, height) * 0.3;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const blob = Math.hypot(x - cx, y - cy) < rad ? 50 : 0;
      const i = 3 * (y * width + x);
      out[i] = clamp(r + blob + (rand() - 0.5) * 60);
      out[i + 1] = clamp(g + blob + (rand() - 0.5) * 60);
      out[i + 2] = clamp(b + blob + (rand() - 0.5) * 60);
    }
  }
  return out;
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

function rgba(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array((rgb.length / 3) * 4);
  for (let i = 0; i < rgb.length / 3; i++) {
    out.set(rgb.subarray(3 * i, 3 * i + 3), 4 * i);
    out[4 * i + 3] = 255;
  }
  return out;
}

export interface ColorFolderOptions {
  classes?: string[];
  /** Images per class in train/ and test/ (no test/ folder when 0). */
  train?: number;
  test?: number;
  /** Add one truncated JPEG to the first class's training images. */
  broken?: boolean;
  seed?: number;
}

export interface ColorFolder {
  dir: string;
  classes: string[];
  /** Relative path of each special file. */
  special: { cmyk: string; gray: string; broken: string | null; png16: string; palette: string; jpeg: string };
}

/**
 * Writes DIR/train/<class>/* and DIR/test/<class>/*: mostly 24×24 RGB PNGs, and among them
 * JPEGs, odd sizes (17×13, 31×40), a CMYK JPEG (Adobe, made by libjpeg), a grayscale PNG, a
 * 16-bit RGB PNG, a palette PNG, an RGBA PNG, and (optionally) one truncated JPEG.
 */
export function writeColorFolder(dir: string, opts: ColorFolderOptions = {}): ColorFolder {
  const classes = opts.classes ?? ['bird', 'cat', 'dog'];
  const nTrain = opts.train ?? 12, nTest = opts.test ?? 4;
  let seed = opts.seed ?? 1;
  const special: ColorFolder['special'] = { cmyk: '', gray: '', broken: null, png16: '', palette: '', jpeg: '' };
  const splits: [string, number][] = nTest > 0 ? [['train', nTrain], ['test', nTest]] : [['train', nTrain]];
  for (const [split, n] of splits) {
    classes.forEach((name, c) => {
      const folder = join(dir, split, name);
      mkdirSync(folder, { recursive: true });
      for (let k = 0; k < n; k++) {
        const [w, h] = k === 1 ? [17, 13] : k === 2 ? [31, 40] : [24, 24];
        const rgb = classImage(c, w, h, seed++);
        const base = join(folder, `img${String(k).padStart(3, '0')}`);
        const rel = (ext: string) => `${split}/${name}/img${String(k).padStart(3, '0')}.${ext}`;
        if (k % 4 === 3) {
          writeFileSync(`${base}.jpg`, encodeJpeg({ width: w, height: h, data: rgba(rgb) }, 90).data);
          if (!special.jpeg && split === 'test') special.jpeg = rel('jpg');
        } else if (k === 4 && c === 0 && split === 'train') {
          // A grayscale PNG in a colour set: its luminance, R = G = B for the model.
          const gray = new Uint8Array(w * h);
          for (let i = 0; i < w * h; i++) gray[i] = Math.round((rgb[3 * i] + rgb[3 * i + 1] + rgb[3 * i + 2]) / 3);
          writeFileSync(`${base}.png`, pngOf({ width: w, height: h, data: gray, channels: 1, depth: 8 }));
          special.gray = rel('png');
        } else if (k === 4 && c === 1 && split === 'train') {
          writeFileSync(`${base}.png`, pngOf({ width: w, height: h, data: Uint16Array.from(rgb, (v) => v * 257), channels: 3, depth: 16 }));
          special.png16 = rel('png');
        } else if (k === 4 && c === 2 && split === 'train') {
          // Palette PNG: the image quantized to its class colour and a lighter one.
          const [r, g, b] = BASE[c];
          const index = new Uint8Array(w * h);
          for (let i = 0; i < w * h; i++) index[i] = rgb[3 * i + 2] > b + 20 ? 1 : 0;
          writeFileSync(`${base}.png`, pngOf({ width: w, height: h, data: index, channels: 1, depth: 8, palette: [[r, g, b], [r + 50, g + 50, Math.min(255, b + 45)]] }));
          special.palette = rel('png');
        } else if (k === 5 && split === 'train') {
          writeFileSync(`${base}.png`, pngOf({ width: w, height: h, data: rgba(rgb), channels: 4, depth: 8 }));
        } else {
          writeFileSync(`${base}.png`, pngOf({ width: w, height: h, data: rgb, channels: 3, depth: 8 }));
        }
      }
    });
  }
  // The CMYK JPEG (32×32) in the last class's test images, so the API can be asked about it.
  const last = classes[classes.length - 1];
  special.cmyk = `${nTest > 0 ? 'test' : 'train'}/${last}/cmyk.jpg`;
  writeFileSync(join(dir, special.cmyk), fromBase64(JPEG_FIXTURES.cmyk));
  if (opts.broken) {
    special.broken = `train/${classes[0]}/broken.jpg`;
    const jpeg = encodeJpeg({ width: 24, height: 24, data: rgba(classImage(0, 24, 24, 999)) }, 90).data;
    writeFileSync(join(dir, special.broken), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  }
  return { dir, classes, special };
}

/** CIFAR records: label byte(s), then the R, G and B 32×32 planes. `pixel(i, channel, q)` gives the values. */
function cifarRecords(labels: number[][], pixel: (i: number, ch: number, q: number) => number): Uint8Array {
  const header = labels[0].length;
  const record = header + 3072;
  const out = new Uint8Array(labels.length * record);
  labels.forEach((l, i) => {
    out.set(l, i * record);
    for (let ch = 0; ch < 3; ch++) for (let q = 0; q < 1024; q++) out[i * record + header + ch * 1024 + q] = pixel(i, ch, q);
  });
  return out;
}

/** A pixel value that encodes (image, channel, position), so a test can check the layout. */
export const cifarPixel = (i: number, ch: number, q: number) => (i * 7 + ch * 80 + q) % 256;

/** CIFAR-10 layout: 5 training batches of `perBatch` records, a test batch, batches.meta.txt. */
export function writeCifar10(dir: string, perBatch = 6, nTest = 5): { names: string[] } {
  mkdirSync(dir, { recursive: true });
  const names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
  let i0 = 0;
  for (let b = 1; b <= 5; b++) {
    const labels = Array.from({ length: perBatch }, (_, k) => [(i0 + k) % 10]);
    const start = i0;
    writeFileSync(join(dir, `data_batch_${b}.bin`), cifarRecords(labels, (i, ch, q) => cifarPixel(start + i, ch, q)));
    i0 += perBatch;
  }
  writeFileSync(join(dir, 'test_batch.bin'), cifarRecords(Array.from({ length: nTest }, (_, k) => [(k * 3) % 10]), cifarPixel));
  writeFileSync(join(dir, 'batches.meta.txt'), `${names.join('\n')}\n\n`);
  return { names };
}

/** CIFAR-100 layout: train.bin and test.bin with (coarse, fine) labels, and both name files. */
export function writeCifar100(dir: string, nTrain = 12, nTest = 6): void {
  mkdirSync(dir, { recursive: true });
  const labels = (n: number) => Array.from({ length: n }, (_, k) => [(k * 3) % 20, (k * 7) % 100]);
  writeFileSync(join(dir, 'train.bin'), cifarRecords(labels(nTrain), cifarPixel));
  writeFileSync(join(dir, 'test.bin'), cifarRecords(labels(nTest), cifarPixel));
  writeFileSync(join(dir, 'fine_label_names.txt'), Array.from({ length: 100 }, (_, c) => `fine${c}`).join('\n'));
  writeFileSync(join(dir, 'coarse_label_names.txt'), Array.from({ length: 20 }, (_, c) => `coarse${c}`).join('\n'));
}
