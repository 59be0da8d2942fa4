/**
 * Builds two small runs with the real trainer CLI and hands them to the test projects: their
 * directories (Node tests) and their files as base64 (Workers tests seed their R2 bucket with
 * them). The `tiny` run is synthetic grayscale data; the colour run is an image folder the setup
 * writes (PNG and JPEG, odd sizes, CMYK, 16-bit, palette, grayscale, one broken file skipped),
 * together with some of its test files, to upload as the originals. Also a generated 1000-class
 * run (lib/synthetic.ts, 2-byte class indices), handed over the same two ways.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { FsStore } from '../node/store-fs.ts';
import { writeSyntheticRun } from '../lib/synthetic.ts';
import { WIDE_RUN } from './wide-run.ts';
import { encode as encodeJpeg } from 'jpeg-js';
import { writeColorFolder } from '../trainer/testing.ts';
import { buildRobustRun } from './robust-run.ts';

/** An original dataset file and the index of its image in the run's evaluation set. */
export interface ColorUpload { index: number; path: string; type: string; base64: string }

declare module 'vitest' {
  export interface ProvidedContext {
    tinyRunDir: string;
    tinyRunFiles: Record<string, string>;
    wideRunDir: string;
    wideRunFiles: Record<string, string>;
    colorRunDir: string;
    colorRunFiles: Record<string, string>;
    colorUploads: ColorUpload[];
    /** A 4000×3000 (12-megapixel) JPEG photo, base64: uploads past a Worker's full-size decode. */
    photoJpeg: string;
    /** A tiny run with corrupted sets and planted attributes (test/robust-run.ts), run id 'tiny-robust', no `latest`. */
    robustRunFiles: Record<string, string>;
    /** A tiny trained resnet (depth 8) on a colour image folder, and originals of its test images. */
    resnetRunDir: string;
    resnetRunFiles: Record<string, string>;
    resnetUploads: ColorUpload[];
  }
}

interface Built { dir: string; files: Record<string, string> }
let built: { tiny: Built; color: Built; uploads: ColorUpload[]; robust: Built } | null = null;
let resnet: { run: Built; uploads: ColorUpload[] } | null = null;
let wide: Built | null = null;

function filesOf(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const rel of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, rel);
    try {
      files[rel.split('\\').join('/')] = readFileSync(path).toString('base64');
    } catch { /* a directory */ }
  }
  return files;
}

async function buildWide(): Promise<Built> {
  if (wide) return wide;
  const dir = mkdtempSync(join(tmpdir(), 'pie-wide-run-'));
  await writeSyntheticRun(new FsStore(dir), { ...WIDE_RUN, sparsities: [...WIDE_RUN.sparsities] });
  wide = { dir, files: filesOf(dir) };
  return wide;
}

const root = join(import.meta.dirname, '..');

function runCli(args: string[]): Built {
  const dir = mkdtempSync(join(tmpdir(), 'pie-test-run-'));
  const r = spawnSync(process.execPath, [join(root, 'bin/pie.js'), 'run', ...args, '--runs-dir', dir, '--quiet'], { encoding: 'utf8', cwd: root });
  if (r.status !== 0) throw new Error(`building the test run (${args.join(' ')}) failed:\n${r.stderr}\n${r.stdout}`);
  return { dir, files: filesOf(dir) };
}

function build() {
  if (built) return built;
  const tiny = runCli(['--preset', 'tiny']);
  const folder = writeColorFolder(mkdtempSync(join(tmpdir(), 'pie-color-folder-')), { broken: true });
  const color = runCli(['--preset', 'tiny', '--data-dir', folder.dir, '-K', '2', '--epochs', '2', '--skip-bad-images']);
  // The evaluation set is in ImageFolder order: classes sorted, then each class's sorted files.
  const order = folder.classes.flatMap((c) => readdirSync(join(folder.dir, 'test', c)).sort().map((f) => `test/${c}/${f}`));
  const picks = [folder.special.cmyk, folder.special.jpeg, 'test/cat/img001.png', 'test/dog/img002.png', 'test/bird/img000.png'];
  const uploads = picks.map((path) => ({
    index: order.indexOf(path), path, type: path.endsWith('.png') ? 'image/png' : 'image/jpeg',
    base64: readFileSync(join(folder.dir, path)).toString('base64'),
  }));
  const robust = buildRobustRun({ runId: 'tiny-robust' });
  built = { tiny, color, uploads, robust: { dir: robust.runsDir, files: filesOf(robust.runsDir) } };
  return built;
}

/** Trained through the CLI like the others: --arch resnet, depth 8, 4 filters, one epoch. */
function buildResnet() {
  if (resnet) return resnet;
  const folder = writeColorFolder(mkdtempSync(join(tmpdir(), 'pie-resnet-folder-')), { train: 8, test: 3 });
  const run = runCli(['--preset', 'tiny', '--data-dir', folder.dir, '--arch', 'resnet', '--depth', '8', '--width', '4',
    '-K', '2', '--epochs', '1', '--batch-size', '8', '--sparsities', '0.5']);
  const order = folder.classes.flatMap((c) => readdirSync(join(folder.dir, 'test', c)).sort().map((f) => `test/${c}/${f}`));
  const uploads = order.filter((path) => path.endsWith('.png')).map((path) => ({
    index: order.indexOf(path), path, type: 'image/png', base64: readFileSync(join(folder.dir, path)).toString('base64'),
  }));
  resnet = { run, uploads };
  return resnet;
}

let photo: string | null = null;
/** Smooth gradients and a disc: a 12-megapixel photo's size, a few hundred KB as JPEG. */
function photoJpeg(): string {
  if (photo) return photo;
  const w = 4000, h = 3000, rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = 4 * (y * w + x), disc = Math.hypot(x - 2400, y - 1200) < 800;
    rgba[i] = disc ? 220 : (x * 255 / w) | 0; rgba[i + 1] = (y * 255 / h) | 0; rgba[i + 2] = disc ? 30 : 120; rgba[i + 3] = 255;
  }
  photo = Buffer.from(encodeJpeg({ width: w, height: h, data: rgba }, 80).data).toString('base64');
  return photo;
}

export default async function setup(project: TestProject) {
  const { tiny, color, uploads, robust } = build();
  project.provide('robustRunFiles', Object.fromEntries(Object.entries(robust.files).filter(([k]) => k !== 'latest')));
  project.provide('tinyRunDir', tiny.dir);
  project.provide('tinyRunFiles', tiny.files);
  project.provide('colorRunDir', color.dir);
  project.provide('colorRunFiles', color.files);
  project.provide('colorUploads', uploads);
  project.provide('photoJpeg', photoJpeg());
  const r = buildResnet();
  project.provide('resnetRunDir', r.run.dir);
  project.provide('resnetRunFiles', r.run.files);
  project.provide('resnetUploads', r.uploads);
  const w = await buildWide();
  project.provide('wideRunDir', w.dir);
  project.provide('wideRunFiles', w.files);
}
