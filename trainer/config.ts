import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { FASHION_MNIST_DIR } from './data.ts';

const sparsity = z.number().gt(0).lt(1);

/** Every setting of a run; presets fill it, a config file and flags override it. */
export const RunConfigSchema = z.object({
  preset: z.string().describe('Name of the preset the config started from'),
  dataset: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('idx'),
      name: z.string().default('fashion-mnist'),
      /** Folder with train-/t10k-{images-idx3,labels-idx1}-ubyte[.gz]. */
      dir: z.string().default(FASHION_MNIST_DIR),
      classNames: z.array(z.string()).optional(),
      /** Use only the first n training / test images (tests, smoke runs). */
      trainLimit: z.number().int().positive().optional(),
      testLimit: z.number().int().positive().optional(),
    }),
    z.object({
      kind: z.literal('cifar'),
      name: z.string().default('cifar'),
      /** Folder with CIFAR-10 data_batch_*.bin + test_batch.bin, or CIFAR-100 train.bin + test.bin (binary version). */
      dir: z.string(),
      /** CIFAR-100: fine (100 classes, default) or coarse (20) labels. */
      labels: z.enum(['fine', 'coarse']).default('fine'),
      classNames: z.array(z.string()).optional(),
      trainLimit: z.number().int().positive().optional(),
      testLimit: z.number().int().positive().optional(),
      /** Resize to imageSize × imageSize (default: 32, as stored). */
      imageSize: z.number().int().min(1).max(1024).optional(),
      /** Luminance only (default: colour). */
      grayscale: z.boolean().optional(),
    }),
    z.object({
      kind: z.literal('folder'),
      name: z.string().default('images'),
      /** DIR/train/<class>/* and DIR/test/<class>/* (or val/), or DIR/<class>/* (split here). */
      dir: z.string(),
      /** Without a test/val folder: the fraction of each class held out, seeded by splitSeed. */
      testFraction: z.number().gt(0).lt(1).default(0.2),
      splitSeed: z.number().int().nonnegative().default(0),
      /** Leave out files that are not images or fail to decode (counted in the manifest) instead of failing. */
      skipBadImages: z.boolean().default(false),
      /** Resize to imageSize × imageSize (default: the images' size; the most common one if they differ). */
      imageSize: z.number().int().min(1).max(1024).optional(),
      /** Luminance only (default: colour when any image is colour). */
      grayscale: z.boolean().optional(),
    }),
    z.object({
      kind: z.literal('synthetic'),
      name: z.string().default('synthetic'),
      seed: z.number().int().default(7),
      train: z.number().int().positive().default(6000),
      test: z.number().int().positive().default(1000),
      classes: z.number().int().min(2).max(255).default(10),
    }),
  ]),
  /**
   * A convolutional architecture (lib/model/arch.ts); absent: the MLP of `hidden` (so MLP runs
   * keep their run ids). lenet5: conv filters and dense widths; resnet: depth 6n+2, base width.
   */
  arch: z.discriminatedUnion('name', [
    z.object({ name: z.literal('lenet5'), conv: z.array(z.number().int().positive()).length(2).optional(), dense: z.array(z.number().int().positive()).optional() }),
    z.object({ name: z.literal('resnet'), depth: z.number().int().min(8).refine((d) => (d - 2) % 6 === 0, 'resnet depth must be 6n+2 (8, 14, 20, …)').default(20), width: z.number().int().positive().default(16) }),
  ]).optional(),
  /** Layer widths; LeNet-300-100 = [784, 300, 100, 10]. The first and last are set by the data. */
  hidden: z.array(z.number().int().positive()).default([300, 100]),
  /** Members per level (the paper: 30). */
  K: z.number().int().min(2).max(255),
  /** Pruning targets; each becomes a level named p<percent> (0.9 → p90). */
  sparsities: z.array(sparsity),
  /** Post-training quantization of every dense member. */
  quantization: z.array(z.enum(['float16', 'int8-dynamic', 'int8-full'])),
  epochs: z.number().int().positive(),
  batchSize: z.number().int().positive().default(128),
  learningRate: z.number().positive().default(1e-3),
  /** Pruning window as fractions of all training steps; masks recomputed every `frequency` steps. */
  pruning: z.object({
    begin: z.number().min(0).max(1).default(0.1),
    end: z.number().min(0).max(1).default(0.7),
    frequency: z.number().int().positive().default(50),
  }).refine((p) => p.end > p.begin, { message: 'pruning.end must be after pruning.begin' })
    .default({ begin: 0.1, end: 0.7, frequency: 50 }),
  /** full-int8 activation ranges come from the first n training images (METHOD.md: 100). */
  calibrationImages: z.number().int().positive().default(100),
  /** Base seed; each member's seed is derived from it, the level and the member index. */
  seed: z.number().int().nonnegative().default(1),
  /** Modal-label tie rule (METHOD.md: the released code takes the largest tied class). Analysis only: not in the run id. */
  tieRule: z.enum(['largest', 'smallest']).default('largest'),
  /** Significance level of the class-level Welch test. Analysis only: not in the run id. */
  alpha: z.number().gt(0).lt(1).default(0.05),
  /** Corrupted test sets to evaluate every member on (lib/corrupt names); analysis only: not in the run id. */
  corruptions: z.array(z.string()).default([]),
  /** Severities of each corruption (1–5). */
  severities: z.array(z.number().int().min(1).max(5)).default([3]),
  /** CSV of categorical attributes per test image (subgroup analysis); not in the run id. */
  attributes: z.string().optional(),
  /** Parallel worker threads (default: one per core). */
  workers: z.number().int().positive().default(() => availableParallelism()),
  engine: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  /** Where runs are written (the local store). */
  runsDir: z.string().default('runs'),
  /** Defaults to <dataset>-<preset>-<hash of the settings that shape the results>. */
  runId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'run ids use letters, digits, . _ - only').optional(),
});
export type RunConfig = z.infer<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;

export const PRESETS: Record<string, RunConfigInput> = {
  /** The default: the whole main job in about eight minutes on two cores. */
  quick: {
    preset: 'quick',
    dataset: { kind: 'idx' },
    K: 10,
    sparsities: [0.5, 0.9, 0.99],
    quantization: ['float16', 'int8-dynamic', 'int8-full'],
    epochs: 6,
    // Five corrupted test sets (noise, photometric, geometric) at severity 3. Measured with the quick
    // preset's 70 models on Fashion-MNIST's 10k test images, on a loaded 2-core machine: 137 s for the
    // five (clean evaluation of the same models: 20 s), within the 3 minutes a quick run may add.
    // Not in the run id: the models are the same.
    corruptions: ['impulse_noise', 'brightness', 'contrast', 'rotate', 'translate'],
    severities: [3],
  },
  /** The paper's population size and sparsities (hours on a CPU; use a GPU). */
  paper: {
    preset: 'paper',
    dataset: { kind: 'idx' },
    K: 30,
    sparsities: [0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99],
    quantization: ['float16', 'int8-dynamic', 'int8-full'],
    epochs: 20,
  },
  /** Seconds, on generated data: for tests and trying the pipeline out. */
  tiny: {
    preset: 'tiny',
    dataset: { kind: 'synthetic', train: 2000, test: 500 },
    K: 4,
    sparsities: [0.5, 0.9],
    quantization: ['float16', 'int8-dynamic', 'int8-full'],
    epochs: 2,
    hidden: [64, 32],
  },
  /**
   * LeNet-5 on Fashion-MNIST: under 25 minutes on two cores (wasm), dense accuracy above the MLP
   * quick run's 87.7 %. Measured from a fresh clone: 22 min 50 s, dense 88.5 ± 0.5 % (one member
   * gave 86.3 % after 1 epoch and 87.4 % after 2, hence 3); with LeNet-5 training on the wasm
   * kernels (cnn-train.ts defaultCnnPath): 6 min 15 s, dense 88.4 ± 0.6 %.
   */
  'cnn-quick': {
    preset: 'cnn-quick',
    dataset: { kind: 'idx' },
    arch: { name: 'lenet5', conv: [6, 16], dense: [120, 84] },
    K: 8,
    sparsities: [0.5, 0.9, 0.99],
    quantization: ['float16', 'int8-dynamic', 'int8-full'],
    epochs: 3,
    batchSize: 128,
    learningRate: 3e-3,
  },
  /** ResNet-20 on a CIFAR-10 folder (--data DIR), the paper's sparsities and K: sized for a GPU. */
  cifar10: {
    preset: 'cifar10',
    dataset: { kind: 'cifar', name: 'cifar10', dir: 'cifar-10-batches-bin' },
    arch: { name: 'resnet', depth: 20, width: 16 },
    K: 30,
    sparsities: [0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99],
    quantization: ['float16', 'int8-dynamic', 'int8-full'],
    epochs: 30,
    batchSize: 128,
  },
};

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

/**
 * Deep merge where the override wins and arrays replace (never concatenate: `sparsities` from a
 * config file must not add to the preset's). Hand-written because defu, the usual library,
 * concatenates arrays and lets the left side win, and this is the whole of what is needed.
 */
function merge<T>(base: T, over: DeepPartial<T> | undefined): T {
  if (!over) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] = b && typeof b === 'object' && !Array.isArray(b) && typeof v === 'object' && !Array.isArray(v)
      ? merge(b, v as DeepPartial<typeof b>)
      : v;
  }
  return out as T;
}

export class ConfigError extends Error {}

/**
 * Preset ← config file (JSON) ← flags, validated once up front; errors name the setting.
 * A dataset block that names its `kind` is a whole dataset and replaces the one below it; one
 * without a kind (e.g. only `trainLimit`) changes the dataset below it, whatever its kind.
 */
export function resolveConfig(preset: string, file?: string, overrides?: DeepPartial<RunConfigInput>): RunConfig {
  const base = PRESETS[preset];
  if (!base) throw new ConfigError(`unknown preset '${preset}' (known: ${Object.keys(PRESETS).join(', ')})`);
  let cfg: RunConfigInput = base;
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
    }
    cfg = overlay(cfg, parsed as DeepPartial<RunConfigInput>);
  }
  cfg = overlay(cfg, overrides);
  const result = RunConfigSchema.safeParse(cfg);
  if (!result.success) {
    const msg = result.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid config: ${msg}`);
  }
  return result.data;
}

function overlay(cfg: RunConfigInput, over: DeepPartial<RunConfigInput> | undefined): RunConfigInput {
  if (!over) return cfg;
  if (over.dataset?.kind) cfg = { ...cfg, dataset: { kind: over.dataset.kind } as RunConfigInput['dataset'] };
  if (over.dataset && cfg.dataset.kind === 'synthetic') {
    // Limits on generated data are its sizes: the first n images of a generated set are a set of n.
    const { trainLimit, testLimit, ...rest } = over.dataset as { trainLimit?: number; testLimit?: number };
    over = { ...over, dataset: { ...rest, ...(trainLimit !== undefined && { train: trainLimit }), ...(testLimit !== undefined && { test: testLimit }) } as DeepPartial<RunConfigInput>['dataset'] };
  }
  return merge(cfg, over);
}

export interface ArchFlags { depth?: number; width?: number; conv?: number[]; dense?: number[] }

/**
 * `--arch` and its size flags replace the config's architecture whole (a resnet's depth must not
 * leak into a lenet5); `mlp` removes it, giving the MLP of `hidden` exactly as without the flag.
 */
export function withArch(cfg: RunConfig, name: 'mlp' | 'lenet5' | 'resnet' | undefined, flags: ArchFlags): RunConfig {
  const { depth, width, conv, dense } = flags;
  const current = cfg.arch?.name ?? 'mlp';
  const target = name ?? current;
  if (target !== 'resnet' && (depth !== undefined || width !== undefined)) throw new ConfigError(`--depth and --width apply to --arch resnet, not ${target}`);
  if (target !== 'lenet5' && (conv !== undefined || dense !== undefined)) throw new ConfigError(`--conv and --dense apply to --arch lenet5, not ${target}`);
  if (target === 'mlp') {
    const { arch: _a, ...rest } = cfg;
    return rest;
  }
  const before = cfg.arch?.name === target ? cfg.arch : { name: target };
  const arch = target === 'resnet' ? { ...before, ...(depth !== undefined && { depth }), ...(width !== undefined && { width }) }
    : { ...before, ...(conv !== undefined && { conv }), ...(dense !== undefined && { dense }) };
  const result = RunConfigSchema.safeParse({ ...cfg, arch });
  if (!result.success) throw new ConfigError(`invalid config: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return result.data;
}

/**
 * The settings a manifest publishes: everything but what is local to the machine that ran it
 * (the runs folder, the dataset's folder, the worker count, the explicit run id).
 */
export function publishedSettings(cfg: RunConfig): Record<string, unknown> {
  const { runsDir: _r, workers: _w, runId: _i, ...rest } = cfg;
  if (rest.dataset.kind === 'idx') {
    const { dir: _d, ...dataset } = rest.dataset;
    return { ...rest, dataset };
  }
  return rest;
}

export interface LevelSpec {
  name: string;
  kind: 'dense' | 'pruned' | 'quantized';
  sparsity: number;
  quantization?: 'float16' | 'int8-dynamic' | 'int8-full';
}

/** Level 0 is always dense (METHOD.md: every level is compared with the same dense population). */
export function levelsOf(cfg: RunConfig): LevelSpec[] {
  const pct = (s: number) => `p${+(s * 100).toFixed(2)}`;
  const short = { 'float16': 'f16', 'int8-dynamic': 'int8-dyn', 'int8-full': 'int8-full' } as const;
  return [
    { name: 'dense', kind: 'dense', sparsity: 0 },
    ...[...cfg.sparsities].sort((a, b) => a - b).map((s) => ({ name: pct(s), kind: 'pruned' as const, sparsity: s })),
    ...cfg.quantization.map((q) => ({ name: short[q], kind: 'quantized' as const, sparsity: 0, quantization: q })),
  ];
}
