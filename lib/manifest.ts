import { z } from 'zod';
import { classBytesFor, type ClassBytes } from './class-array.ts';
import { RobustnessBlockSchema, SubgroupsBlockSchema } from './robustness-run.ts';
import type { Architecture } from './model/arch.ts';

/**
 * The run manifest: the one file that says what a run is and which files belong to it.
 * Written last (after every file it lists), so a reader that finds it finds a whole run.
 * Bump MANIFEST_VERSION on any incompatible change, and upgrade older versions in `parseManifest`.
 * Version 2: the dataset block records format, input shape [h, w, c], counts per class and
 * split, a content fingerprint, polarity and skipped images.
 */
export const MANIFEST_VERSION = 2;

const AccuracySummary = z.object({
  mean: z.number(),
  sd: z.number().nullable(),
  min: z.number(),
  max: z.number(),
});

export const FileEntrySchema = z.object({
  /** Relative to the run's root, e.g. "models/p90/03.piem". */
  path: z.string(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  kind: z.enum(['model', 'member-record', 'predictions', 'analysis', 'eval-images', 'eval-labels', 'dataset', 'corrupted-predictions', 'attributes', 'other']),
});

export const LevelSchema = z.object({
  name: z.string(),
  kind: z.enum(['dense', 'pruned', 'quantized']),
  /** Target sparsity of pruned levels (0 otherwise). */
  sparsity: z.number().min(0).lt(1),
  quantization: z.enum(['float16', 'int8-dynamic', 'int8-full']).optional(),
  /** Model file format of its members (lib/model kinds). */
  format: z.enum(['dense-f32', 'sparse-f32', 'f16', 'int8-dynamic', 'int8-full']),
  /** Per member: model file path, seed, measured per-layer weight sparsity. */
  members: z.array(z.object({
    model: z.string(),
    seed: z.number().int(),
    layerSparsity: z.array(z.number()),
  })),
});

export const LevelMetricsSchema = z.object({
  name: z.string(),
  accuracy: AccuracySummary.extend({ perMember: z.array(z.number()) }),
  pieCount: z.number().int().nonnegative(),
  impacted: z.object({ down: z.number().int(), up: z.number().int(), downAdjusted: z.number().int(), upAdjusted: z.number().int() }),
  /** Classes both of whose samples are constant with different means: not significant here, p = 0 in SciPy (ours). */
  constantDiffering: z.number().int().nonnegative().optional(),
  pieAccuracy: z.object({
    densePie: z.number().nullable(),
    denseNonPie: z.number().nullable(),
    levelPie: z.number().nullable(),
    levelNonPie: z.number().nullable(),
  }),
});

/**
 * What a run was made from. Training images and `eval/images.bin` are uint8 [n × h × w × c],
 * row-major, channels interleaved (HWC), c = 1 (luminance) or 3 (RGB).
 */
export const DatasetSchema = z.object({
  name: z.string(),
  /** A directory, or "synthetic(seed=…)". */
  source: z.string(),
  format: z.enum(['idx', 'cifar', 'folder', 'synthetic']),
  trainSize: z.number().int().positive(),
  testSize: z.number().int().positive(),
  numClasses: z.number().int().min(2),
  classNames: z.array(z.string()),
  /** [height, width] of inputShape (kept from version 1). */
  imageShape: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  /** [height, width, channels]: what every model takes, flattened, as input. */
  inputShape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.union([z.literal(1), z.literal(3)])]),
  /** Images per class in each split (null in runs made before version 2). */
  classCounts: z.object({ train: z.array(z.number().int().nonnegative()), test: z.array(z.number().int().nonnegative()) }).nullable(),
  /**
   * SHA-256 of the content the models saw: input shape, class names, and every split's labels
   * and pixels in order (null in runs made before version 2).
   */
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  /**
   * How the images look, from their rings of border pixels (lib/image/preprocess.ts): decides
   * whether the API's `polarity=auto` inverts an upload. Runs before version 2 assumed light-on-dark.
   */
  polarity: z.enum(['light-on-dark', 'dark-on-light', 'mixed']),
  /** Files left out with --skip-bad-images: how many, and the first 100 with the reason. */
  skipped: z.object({
    count: z.number().int().nonnegative(),
    files: z.array(z.object({ path: z.string(), reason: z.string() })),
  }),
});
export type DatasetInfo = z.infer<typeof DatasetSchema>;

export const ManifestSchema = z.object({
  schemaVersion: z.literal(MANIFEST_VERSION),
  runId: z.string(),
  createdAt: z.string(),
  dataset: DatasetSchema,
  /**
   * `dims` of the MLP; for a convolutional run [inputs, classes], with `arch` (lib/model/arch.ts)
   * and a sentence on how pruning treats BatchNorm-folded weights.
   */
  architecture: z.object({
    name: z.string(), dims: z.array(z.number().int().positive()),
    arch: z.custom<Architecture>((v) => typeof v === 'object' && v !== null && Array.isArray((v as Architecture).ops)).optional(),
    pruning: z.string().optional(),
  }),
  engine: z.object({ backend: z.string(), provider: z.string(), tfjsVersion: z.string(), workers: z.number().int() }),
  K: z.number().int().min(1),
  /**
   * Bytes per class index in predictions.bin and eval/labels.bin (lib/class-array.ts): 2 for
   * runs of more than 256 classes. Absent (runs written before it existed) means 1.
   */
  classBytes: z.union([z.literal(1), z.literal(2)]).optional(),
  levels: z.array(LevelSchema).min(1),
  /** The resolved config the run was made with (trainer/config.ts). */
  settings: z.record(z.string(), z.unknown()),
  metrics: z.object({
    levels: z.array(LevelMetricsSchema),
    /** Fraction of test images on which the lib/ kernels' argmax equals tfjs's, dense and pruned members. */
    kernelAgreement: z.number().min(0).max(1),
    training: z.object({ examplesPerSecondPerWorker: z.number(), examplesPerSecondTotal: z.number(), seconds: z.number() }),
    evaluation: z.object({ imagesPerSecond: z.number(), seconds: z.number() }),
  }),
  files: z.array(FileEntrySchema),
  /** Corrupted test sets evaluated (pie run --corruptions), absent when none. */
  robustness: RobustnessBlockSchema.optional(),
  /** Attributes per test image (pie run --attributes), absent when none. */
  subgroups: SubgroupsBlockSchema.optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;
export type FileEntry = z.infer<typeof FileEntrySchema>;
export type LevelEntry = z.infer<typeof LevelSchema>;
export type LevelMetrics = z.infer<typeof LevelMetricsSchema>;

export class ManifestError extends Error {}

export function parseManifest(text: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(`manifest is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const result = ManifestSchema.safeParse(upgrade(json));
  if (!result.success) {
    throw new ManifestError(`invalid manifest: ${result.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  classBytesOf(result.data);
  return result.data;
}

/** The class-index width of a run's files, checked against its class count. */
export function classBytesOf(manifest: Manifest): ClassBytes {
  const bytes = manifest.classBytes ?? 1;
  const needed = classBytesFor(manifest.dataset.numClasses);
  if (bytes !== needed) {
    throw new ManifestError(`invalid manifest: ${manifest.dataset.numClasses} classes are stored with ${needed}-byte class indices, but classBytes is ${bytes}`);
  }
  return bytes;
}

/**
 * Version 1 → 2: a v1 run is IDX-like (or synthetic) grayscale, light on dark, with nothing
 * skipped; its counts and fingerprint were not recorded. Anything else passes through unchanged.
 */
function upgrade(json: unknown): unknown {
  if (typeof json !== 'object' || json === null || (json as { schemaVersion?: unknown }).schemaVersion !== 1) return json;
  const v1 = json as { dataset?: Record<string, unknown> };
  const d = v1.dataset ?? {};
  const shape = Array.isArray(d.imageShape) ? d.imageShape : [];
  return {
    ...v1,
    schemaVersion: 2,
    dataset: {
      ...d,
      format: typeof d.source === 'string' && d.source.startsWith('synthetic(') ? 'synthetic' : 'idx',
      inputShape: [...shape, 1],
      classCounts: null,
      fingerprint: null,
      polarity: 'light-on-dark',
      skipped: { count: 0, files: [] },
    },
  };
}

/** [height, width, channels] of a run's inputs. */
export function inputShapeOf(manifest: Manifest): [number, number, 1 | 3] {
  return manifest.dataset.inputShape;
}

/** Fixed names inside a run. */
export const RUN_FILES = {
  manifest: 'manifest.json',
  predictions: 'predictions.bin',
  analysis: 'analysis.json',
  evalImages: 'eval/images.bin',
  evalLabels: 'eval/labels.bin',
  /** SHA-256 of each evaluation image (32 bytes each, image order): lets one image be read by range and still be checked. */
  evalImageHashes: 'eval/images.sha256',
  /** The dataset block, written when training starts: a later start with other data is refused. */
  dataset: 'dataset.json',
  model: (level: string, member: number) => `models/${level}/${String(member).padStart(2, '0')}.piem`,
  memberRecord: (level: string, member: number) => `members/${level}/${String(member).padStart(2, '0')}.json`,
} as const;
