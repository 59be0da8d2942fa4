/**
 * A generated run of any shape, for scale tests and benchmarks: predictions are synthesised
 * (no training), with PIEs planted on ambiguous images and growing with sparsity, so analysis,
 * lookups, the review queue and the web page have real work at ImageNet shape (50 000 images,
 * 1000 classes, K = 30, 10 levels) in seconds. Models are small random MLPs in each level's
 * format, so the run is complete and live prediction runs, but their answers are not the
 * synthesised predictions: use it to measure lookups, not to judge predictions. With `arch`, the
 * models are random convolutional nets of that architecture instead (to measure and test live
 * prediction of CNN runs without training).
 */
import { analyzeRun } from './analysis/index.ts';
import { classArrayToBytes, classBytesFor, newClassArray } from './class-array.ts';
import { imageHashes, sha256Hex } from './hash.ts';
import { MANIFEST_VERSION, RUN_FILES, parseManifest, type FileEntry, type LevelEntry, type Manifest } from './manifest.ts';
import { encodeModel, lenet5Arch, prunedModel, quantizeFloat16, quantizeInt8Dynamic, quantizeInt8Full, resnetArch, toArchModel, toDenseModel, toSparseModel, type Architecture, type CompactModel, type MlpWeights, type ModelKind } from './model/index.ts';
import { randomArchWeights } from './model/testing.ts';
import { mulberry32, seedFor } from './random.ts';
import { LATEST_KEY, type Store } from './store.ts';

export interface SyntheticRunOptions {
  runId: string;
  /** Number of classes, 2…65 536. Default 1000. */
  numClasses?: number;
  /** Evaluation images. Default 50 000. */
  images?: number;
  /** Members per level. Default 30. */
  K?: number;
  /** Pruned levels' sparsities; with dense and int8-dynamic they make the levels. Default 10 … 95 % (8), so 10 levels. */
  sparsities?: number[];
  /** Image height = width, pixels (grayscale). Default 32. */
  imageSize?: number;
  /** Hidden widths of the random MLPs: one number or one per layer ([300, 100]: LeNet-300-100's shape). Default 4. */
  hidden?: number | number[];
  /** Evaluation images to use instead of generated ones: [images × imageSize²] grayscale bytes. */
  pixels?: Uint8Array;
  /** Random CNN members of this architecture instead of MLPs (lenet5: conv 4, 8, dense 16; resnet: ResNet-8, width 4). */
  arch?: 'lenet5' | 'resnet';
  /** Quantized levels after the pruned ones. Default ['int8-dynamic']. */
  quantizations?: ('float16' | 'int8-dynamic' | 'int8-full')[];
  seed?: number;
}

const DEFAULT_SPARSITIES = [0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99];

/** Writes a whole run (files, manifest, `latest`) to the store and returns its manifest. */
export async function writeSyntheticRun(store: Store, opts: SyntheticRunOptions): Promise<Manifest> {
  const C = opts.numClasses ?? 1000, N = opts.images ?? 50_000, K = opts.K ?? 30, seed = opts.seed ?? 1;
  const size = opts.imageSize ?? 32, hidden = opts.hidden ?? 4;
  const sparsities = opts.sparsities ?? DEFAULT_SPARSITIES;
  const short = { 'float16': 'f16', 'int8-dynamic': 'int8-dyn', 'int8-full': 'int8-full' } as const;
  const levels: { name: string; kind: LevelEntry['kind']; sparsity: number; quantization?: 'float16' | 'int8-dynamic' | 'int8-full' }[] = [
    { name: 'dense', kind: 'dense', sparsity: 0 },
    ...sparsities.map((s) => ({ name: `p${Math.round(s * 100)}`, kind: 'pruned' as const, sparsity: s })),
    ...(opts.quantizations ?? ['int8-dynamic']).map((q) => ({ name: short[q], kind: 'quantized' as const, sparsity: 0, quantization: q })),
  ];
  const L = levels.length;
  const classBytes = classBytesFor(C);
  const rand = mulberry32(seed);

  // Labels balanced over classes; each image has a confusable class and an ambiguity in [0, 1).
  const labels = newClassArray(N, classBytes);
  const confuser = new Uint32Array(N);
  const ambiguity = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    labels[i] = i % C;
    confuser[i] = (labels[i] + 1 + Math.floor(rand() * (C - 1))) % C;
    ambiguity[i] = rand() ** 4; // most images easy, a few very ambiguous
  }
  // Member k of level t: right with probability 0.9 − 0.5·a·(1 + strength), else mostly the
  // confuser, else any class. Strength grows with sparsity, so the ambiguous images flip first.
  const predictions = newClassArray(L * K * N, classBytes);
  levels.forEach((level, t) => {
    const strength = level.kind === 'quantized' ? 0.15 : level.sparsity ** 2;
    for (let k = 0; k < K; k++) {
      const row = (t * K + k) * N;
      for (let i = 0; i < N; i++) {
        const a = ambiguity[i];
        const r = rand();
        const right = 0.9 - 0.5 * a * (1 + strength);
        predictions[row + i] = r < right ? labels[i] : r < right + (1 - right) * 0.7 ? confuser[i] : Math.floor(rand() * C);
      }
    }
  });

  // Grayscale images: a per-class gradient plus noise, h × w × 1.
  const px = size * size;
  const images = new Uint8Array(N * px);
  if (opts.pixels) {
    if (opts.pixels.length !== N * px) throw new RangeError(`pixels: ${opts.pixels.length} bytes, expected ${N} images of ${size}×${size}`);
    images.set(opts.pixels);
  }
  for (let i = 0; i < N && !opts.pixels; i++) {
    const c = labels[i], base = i * px;
    for (let p = 0; p < px; p++) images[base + p] = ((p * (c % 7 + 1) + c * 13) & 0xff) ^ (rand() * 32);
  }

  const analysis = analyzeRun({ predictions, labels, numClasses: C, levelNames: levels.map((l) => l.name), K });
  const files: FileEntry[] = [];
  const put = async (path: string, bytes: Uint8Array, kind: FileEntry['kind']) => {
    await store.put(`${opts.runId}/${path}`, bytes);
    files.push({ path, bytes: bytes.length, sha256: await sha256Hex(bytes), kind });
  };
  await put(RUN_FILES.predictions, classArrayToBytes(predictions), 'predictions');
  await put(RUN_FILES.analysis, new TextEncoder().encode(JSON.stringify(analysis.summary)), 'analysis');
  await put(RUN_FILES.evalImages, images, 'eval-images');
  await put(RUN_FILES.evalImageHashes, await imageHashes(images, N), 'other');
  await put(RUN_FILES.evalLabels, classArrayToBytes(labels), 'eval-labels');

  const dims = [px, ...[hidden].flat(), C];
  const arch: Architecture | null =
    opts.arch === 'lenet5' ? lenet5Arch([size, size, 1], C, { conv: [4, 8], dense: [16] })
    : opts.arch === 'resnet' ? resnetArch([size, size, 1], C, { depth: 8, width: 4 })
    : null;
  const formatOf = { 'float16': 'f16', 'int8-dynamic': 'int8-dynamic', 'int8-full': 'int8-full' } as const;
  // Full int8 is calibrated on the first 100 evaluation images, as the method does on training images.
  const calibration = () => Float32Array.from(images.subarray(0, Math.min(100, N) * px), (v) => v / 255);
  const levelEntries: LevelEntry[] = [];
  for (const level of levels) {
    // A pruned level's format is its first member's (prunedModel: CSR where smaller); the others follow.
    let format: ModelKind | undefined = level.kind === 'dense' ? 'dense-f32' : level.kind === 'pruned' ? undefined : formatOf[level.quantization!];
    const members: LevelEntry['members'] = [];
    for (let k = 0; k < K; k++) {
      const memberSeed = seedFor(seed, level.name, k);
      const path = RUN_FILES.model(level.name, k);
      if (arch) {
        const weights = randomArchWeights(arch, memberSeed, level.sparsity);
        const make = (kind: ModelKind) => toArchModel(weights, kind, { calibration: calibration(), n: Math.min(100, N) });
        const model: CompactModel = format ? make(format) : prunedModel(make);
        format ??= model.kind;
        await put(path, encodeModel(model), 'model');
        members.push({ model: path, seed: memberSeed, layerSparsity: arch.ops.filter((op) => op.op === 'conv' || op.op === 'dense').map(() => level.sparsity) });
        continue;
      }
      const weights = randomWeights(dims, mulberry32(memberSeed), level.sparsity);
      const make = (kind: ModelKind) => (kind === 'dense-f32' ? toDenseModel(weights) : kind === 'sparse-f32' ? toSparseModel(weights)
        : kind === 'f16' ? quantizeFloat16(weights) : kind === 'int8-full' ? quantizeInt8Full(weights, calibration(), Math.min(100, N)) : quantizeInt8Dynamic(weights));
      const model: CompactModel = format ? make(format) : prunedModel(make);
      format ??= model.kind;
      await put(path, encodeModel(model), 'model');
      members.push({ model: path, seed: memberSeed, layerSparsity: dims.slice(1).map(() => level.sparsity) });
    }
    levelEntries.push({ name: level.name, kind: level.kind, sparsity: level.sparsity, quantization: level.quantization, format: format!, members });
  }

  const classNames = Array.from({ length: C }, (_, c) => `class ${String(c).padStart(4, '0')}`);
  const counts = new Array<number>(C).fill(0);
  for (let i = 0; i < N; i++) counts[labels[i]]++;
  // As trainer/data.ts: SHA-256 of the shape, class names and counts, then labels and pixels.
  const header = new TextEncoder().encode(JSON.stringify({ inputShape: [size, size, 1], classNames, train: N, test: N }));
  const labelBytes = classArrayToBytes(labels);
  const content = new Uint8Array(header.length + labelBytes.length + images.length);
  content.set(header, 0);
  content.set(labelBytes, header.length);
  content.set(images, header.length + labelBytes.length);
  const fingerprint = await sha256Hex(content);

  const manifest: Manifest = {
    schemaVersion: MANIFEST_VERSION,
    runId: opts.runId,
    createdAt: new Date().toISOString(),
    dataset: {
      name: `synthetic-${C}-classes`, source: 'generated (lib/synthetic.ts)', format: 'synthetic', trainSize: N, testSize: N,
      numClasses: C, classNames, imageShape: [size, size], inputShape: [size, size, 1],
      // No training split is generated: trainSize and its counts stand for the evaluation set.
      classCounts: { train: counts, test: counts },
      fingerprint,
      // Gradients plus noise have no background: 'auto' never inverts an upload.
      polarity: 'mixed',
      skipped: { count: 0, files: [] },
    },
    architecture: arch ? { name: `random-${arch.name}`, dims: [px, C] } : { name: `random-mlp-${dims.join('-')}`, dims },
    engine: { backend: 'none', provider: 'synthetic (no training)', tfjsVersion: 'none', workers: 0 },
    K,
    classBytes,
    levels: levelEntries,
    settings: { synthetic: true, numClasses: C, images: N, K, sparsities, imageSize: size, hidden, seed, ...(arch ? { arch: arch.name } : {}), ...(opts.quantizations ? { quantizations: opts.quantizations } : {}) },
    metrics: {
      levels: analysis.summary.levels.map((l) => ({ name: l.name, accuracy: l.accuracy, pieCount: l.pieCount, impacted: l.impacted, pieAccuracy: l.pieAccuracy })),
      kernelAgreement: 1,
      training: { examplesPerSecondPerWorker: 0, examplesPerSecondTotal: 0, seconds: 0 },
      evaluation: { imagesPerSecond: 0, seconds: 0 },
    },
    files,
  };
  const text = JSON.stringify(manifest, null, 1);
  parseManifest(text);
  await store.put(`${opts.runId}/${RUN_FILES.manifest}`, text);
  await store.put(LATEST_KEY, `${opts.runId}\n`);
  return manifest;
}

/** Random MLP weights (He-scaled), with the given fraction of each layer's weights zeroed. */
function randomWeights(dims: number[], rand: () => number, sparsity: number): MlpWeights {
  return {
    dims,
    layers: dims.slice(1).map((outDim, l) => {
      const inDim = dims[l];
      const scale = Math.sqrt(2 / inDim);
      const weights = Float32Array.from({ length: inDim * outDim }, () => (rand() < sparsity ? 0 : (rand() * 2 - 1) * scale));
      return { inDim, outDim, weights, bias: new Float32Array(outDim) };
    }),
  };
}

/**
 * The `paper` preset's shape with random members: 28 × 28 grayscale, 10 classes, 10 000
 * evaluation images, K = 30 LeNet-300-100 MLPs per level, dense, pruned to 10/30/50/70/90/95/99 %
 * and the three quantized kinds (11 levels, 330 models): for measuring model memory and live
 * prediction at that size without training.
 */
export const PAPER_SHAPE = {
  numClasses: 10, images: 10_000, K: 30, imageSize: 28, hidden: [300, 100],
  sparsities: [0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99], quantizations: ['float16', 'int8-dynamic', 'int8-full'],
} satisfies Omit<SyntheticRunOptions, 'runId'>;
