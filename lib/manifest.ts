import { z } from 'zod';

/**
 * The run manifest: the one file that says what a run is and which files belong to it.
 * Written last (after every file it lists), so a reader that finds it finds a whole run.
 * Bump MANIFEST_VERSION on any incompatible change.
 */
export const MANIFEST_VERSION = 1;

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
  kind: z.enum(['model', 'member-record', 'predictions', 'analysis', 'eval-images', 'eval-labels', 'other']),
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

export const ManifestSchema = z.object({
  schemaVersion: z.literal(MANIFEST_VERSION),
  runId: z.string(),
  createdAt: z.string(),
  dataset: z.object({
    name: z.string(),
    source: z.string(),
    trainSize: z.number().int().positive(),
    testSize: z.number().int().positive(),
    numClasses: z.number().int().min(2),
    classNames: z.array(z.string()),
    imageShape: z.tuple([z.number().int(), z.number().int()]),
  }),
  architecture: z.object({ name: z.string(), dims: z.array(z.number().int().positive()) }),
  engine: z.object({ backend: z.string(), provider: z.string(), tfjsVersion: z.string(), workers: z.number().int() }),
  K: z.number().int().min(1),
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
  const result = ManifestSchema.safeParse(json);
  if (!result.success) {
    throw new ManifestError(`invalid manifest: ${result.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return result.data;
}

/** Fixed names inside a run. */
export const RUN_FILES = {
  manifest: 'manifest.json',
  predictions: 'predictions.bin',
  analysis: 'analysis.json',
  evalImages: 'eval/images.bin',
  evalLabels: 'eval/labels.bin',
  model: (level: string, member: number) => `models/${level}/${String(member).padStart(2, '0')}.piem`,
  memberRecord: (level: string, member: number) => `members/${level}/${String(member).padStart(2, '0')}.json`,
} as const;
