import { createHash } from 'node:crypto';
import { analyzeRun, type RunAnalysis } from '../lib/analysis/index.ts';
import { type ClassArray, classArrayFromBytes, classArrayToBytes, classBytesFor, newClassArray } from '../lib/class-array.ts';
import { imageHashes, sha256Hex } from '../lib/hash.ts';
import { MANIFEST_VERSION, RUN_FILES, type DatasetInfo, type FileEntry, type LevelEntry, type Manifest, parseManifest } from '../lib/manifest.ts';
import {
  decodeModel, encodeModel, prunedModel, quantizeFloat16, quantizeInt8Dynamic, quantizeInt8Full, toDenseModel, toMlpWeights, toSparseModel,
  type CompactModel,
} from '../lib/model/index.ts';
import { PIXEL_SCALE, type MlpWeights } from '../lib/model/types.ts';
import { seedFor } from '../lib/random.ts';
import { LATEST_KEY, getText, type Store } from '../lib/store.ts';
import { levelsOf, publishedSettings, type LevelSpec, type RunConfig } from './config.ts';
import { DatasetError, datasetIdentity, loadDataset, type Dataset } from './data.ts';
import type { Engine } from './engine.ts';
import { WorkerPool, shareClassArray, shareFloat32 } from './pool.ts';
import type { Progress } from './progress.ts';
import type { RunExtras } from './robustness.ts';
import type { MemberSpec } from './train.ts';
import type { CnnMemberSpec } from './cnn-train.ts';
import { MIN_QUANTIZED_AGREEMENT, archManifestEntry, checkArchSparsity, quantizedArchModel, runArchitecture, trainedArchModel } from './cnn-run.ts';
import type { Architecture } from '../lib/model/arch.ts';
import type { ArchCompactModel } from '../lib/model/types.ts';
import type { WorkerMessage } from './worker.ts';

/** What a trained or quantized member leaves behind next to its model file (written after it). */
export interface MemberRecord {
  level: string;
  member: number;
  seed: number;
  format: CompactModel['kind'];
  model: { path: string; bytes: number; sha256: string };
  layerSparsity: number[];
  targetSparsity: number;
  /** Training figures (absent for quantized members, which are derived from a dense one). */
  training?: { steps: number; examples: number; seconds: number; finalLoss: number; engine: string; schedule: unknown };
  /** tfjs argmax on the test set, base64 — to check the lib/ kernels against it. */
  tfjsPredictions?: string;
  /** Quantized CNN members: argmax of their fake-quantized tfjs reference (cnn-quant-reference.ts), base64. */
  referencePredictions?: string;
}

export interface RunContext {
  cfg: RunConfig;
  store: Store;
  runId: string;
  data: Dataset;
  /** The dataset block of the manifest (format, shape, counts, fingerprint, polarity). */
  identity: DatasetInfo;
  dims: number[];
  /** The convolutional architecture (config `arch`), or null for the MLP of `dims`. */
  arch: Architecture | null;
  levels: LevelSpec[];
  progress: Progress;
}

/**
 * The settings that shape the models and their predictions name the run: same config → same run.
 * Not workers, engine or paths, and not the analysis settings (tieRule, alpha, corruptions, attributes): `pie analyze`
 * re-analyses a run's predictions with others, without training anything again.
 */
export function defaultRunId(cfg: RunConfig): string {
  const { workers: _w, engine: _e, runsDir: _r, runId: _i, tieRule: _t, alpha: _a, corruptions: _c, severities: _s, attributes: _f, ...shaping } = cfg;
  const hash = createHash('sha256').update(JSON.stringify(shaping)).digest('hex').slice(0, 8);
  return `${cfg.dataset.name}-${cfg.preset}-${hash}`;
}

/**
 * Loads the data and checks it is what the run was started with: the first start records the
 * dataset block in the run (dataset.json); a later start, resume, shard or aggregate whose data
 * has another fingerprint is refused, naming both.
 */
export async function prepareRun(cfg: RunConfig, store: Store, progress: Progress): Promise<RunContext> {
  const data = await loadDataset(cfg.dataset, { workers: cfg.workers, progress });
  // The MLP takes the image flattened: h · w · c inputs.
  const dims = [data.rows * data.cols * data.channels, ...cfg.hidden, data.numClasses];
  const runId = cfg.runId ?? defaultRunId(cfg);
  const identity = datasetIdentity(data);
  const recorded = await getText(store, `${runId}/${RUN_FILES.dataset}`);
  if (recorded) {
    const before = JSON.parse(recorded) as DatasetInfo;
    if (before.fingerprint !== identity.fingerprint) {
      const describe = (d: DatasetInfo) => `${d.source}: ${d.trainSize} train / ${d.testSize} test, ${d.numClasses} classes, ` +
        `${d.inputShape.join('×')}, fingerprint ${d.fingerprint?.slice(0, 12)}`;
      throw new DatasetError(`run ${runId} was started with other data (${describe(before)}); the data now is ${describe(identity)}. ` +
        'Its members cannot be mixed: restore the data, or start a new run with --run-id.');
    }
  } else {
    await store.put(`${runId}/${RUN_FILES.dataset}`, new TextEncoder().encode(`${JSON.stringify(identity, null, 1)}\n`));
  }
  const arch = runArchitecture(cfg, [data.rows, data.cols, data.channels], data.numClasses);
  return { cfg, store, runId, data, identity, dims, arch, levels: levelsOf(cfg), progress };
}

const key = (ctx: RunContext, path: string) => `${ctx.runId}/${path}`;

/** Seeds per (level, member): independent of how members are scheduled or sharded. */
export function memberSeed(cfg: RunConfig, level: string, member: number): number {
  return seedFor(cfg.seed, level, member);
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/**
 * A member counts as done when its record exists and its model file matches the record's hash.
 * Returns both, so callers use the bytes they just verified instead of reading them again.
 */
async function finishedMember(ctx: RunContext, level: string, member: number): Promise<{ record: MemberRecord; model: Uint8Array } | null> {
  const text = await getText(ctx.store, key(ctx, RUN_FILES.memberRecord(level, member)));
  if (!text) return null;
  const record = JSON.parse(text) as MemberRecord;
  const model = await ctx.store.get(key(ctx, record.model.path));
  if (!model || model.length !== record.model.bytes || (await sha256Hex(model)) !== record.model.sha256) return null;
  return { record, model };
}

async function saveMember(ctx: RunContext, record: Omit<MemberRecord, 'model' | 'format'>, model: CompactModel): Promise<MemberRecord> {
  const bytes = encodeModel(model);
  const path = RUN_FILES.model(record.level, record.member);
  await ctx.store.put(key(ctx, path), bytes);
  const full: MemberRecord = { ...record, format: model.kind, model: { path, bytes: bytes.length, sha256: await sha256Hex(bytes) } };
  // The record goes last: its presence means the model file is whole.
  await ctx.store.put(key(ctx, RUN_FILES.memberRecord(record.level, record.member)), JSON.stringify(full, null, 1));
  return full;
}

/** Sparsity check per METHOD.md: each tensor's final sparsity equals the target (± one weight). */
function checkSparsity(weights: MlpWeights, target: number, where: string): void {
  weights.layers.forEach((l, i) => {
    const n = l.weights.length;
    let zeros = 0;
    for (let j = 0; j < n; j++) if (l.weights[j] === 0) zeros++;
    const expectedZeros = n - Math.round(n * (1 - target));
    if (Math.abs(zeros - expectedZeros) > 1) {
      throw new Error(`${where}: layer ${i} has ${zeros} zeros of ${n}, target sparsity ${target} needs ${expectedZeros}`);
    }
  });
}

export interface TrainSummary {
  trained: number;
  skipped: number;
  examples: number;
  seconds: number;
  engine: Engine | null;
  /** Sum over trained members of examples / their own seconds, per worker. */
  perWorker: number;
}

function sharedData(ctx: RunContext) {
  return {
    train: { images: shareFloat32(ctx.data.train.images, PIXEL_SCALE), labels: shareClassArray(ctx.data.train.labels), n: ctx.data.train.n },
    test: { images: shareFloat32(ctx.data.test.images, PIXEL_SCALE), n: ctx.data.test.n },
  };
}

/** Trains every (dense or pruned) member that is not finished yet, in parallel workers. */
export async function trainPopulations(ctx: RunContext, only?: (level: string, member: number) => boolean): Promise<TrainSummary> {
  const { cfg } = ctx;
  const trainedLevels = ctx.levels.filter((l) => l.kind !== 'quantized');
  const todo: (MemberSpec | CnnMemberSpec)[] = [];
  let skipped = 0;
  for (const level of trainedLevels) {
    for (let m = 0; m < cfg.K; m++) {
      if (only && !only(level.name, m)) continue;
      if (await finishedMember(ctx, level.name, m)) { skipped++; continue; }
      todo.push({
        level: level.name, member: m, seed: memberSeed(cfg, level.name, m), ...(ctx.arch ? { arch: ctx.arch } : { dims: ctx.dims }),
        sparsity: level.sparsity, epochs: cfg.epochs, batchSize: cfg.batchSize, learningRate: cfg.learningRate,
        pruning: cfg.pruning,
      });
    }
  }
  const summary: TrainSummary = { trained: 0, skipped, examples: 0, seconds: 0, engine: null, perWorker: 0 };
  if (skipped) ctx.progress.log(`train: ${skipped} member(s) already finished, skipped`);
  if (!todo.length) return summary;
  const stepsPerEpoch = Math.max(1, Math.floor(ctx.data.train.n / cfg.batchSize));
  const total = todo.length * stepsPerEpoch * cfg.epochs * cfg.batchSize;
  const workers = Math.min(cfg.workers, todo.length);
  const pool = new WorkerPool(workers, { engine: cfg.engine, ...sharedData(ctx) });
  const phase = ctx.progress.phase('train', total, 'examples');
  const started = performance.now();
  let memberSeconds = 0;
  try {
    await Promise.all(todo.map(async (spec) => {
      const task = 'arch' in spec ? { type: 'train-cnn' as const, spec } : { type: 'train' as const, spec };
      const msg = await pool.run(task, (n) => phase.tick(n)) as Extract<WorkerMessage, { type: 'trained' | 'trained-cnn' }>;
      const r = msg.result;
      const where = `${spec.level}/${spec.member}`;
      let model: CompactModel;
      if (msg.type === 'trained-cnn') {
        if (spec.sparsity > 0) checkArchSparsity(msg.result.weights, spec.sparsity, where);
        model = trainedArchModel(msg.result.weights, spec.sparsity);
      } else {
        if (spec.sparsity > 0) checkSparsity(msg.result.weights, spec.sparsity, where);
        const w = msg.result.weights;
        model = spec.sparsity > 0 ? prunedModel((kind) => (kind === 'sparse-f32' ? toSparseModel(w) : toDenseModel(w))) : toDenseModel(w);
      }
      await saveMember(ctx, {
        level: spec.level, member: spec.member, seed: spec.seed,
        layerSparsity: r.layerSparsity, targetSparsity: spec.sparsity,
        training: { steps: r.steps, examples: r.examples, seconds: r.seconds, finalLoss: r.finalLoss, engine: pool.engine?.backend ?? '?', schedule: r.schedule },
        tfjsPredictions: toBase64(classArrayToBytes(msg.tfjsPredictions)),
      }, model);
      summary.trained++;
      summary.examples += r.examples;
      memberSeconds += r.seconds;
    }));
  } finally {
    summary.engine = pool.engine;
    await pool.close();
  }
  summary.seconds = (performance.now() - started) / 1000;
  summary.perWorker = summary.examples / memberSeconds;
  phase.done(`${summary.trained} members on ${summary.engine?.backend} × ${workers} workers, ` +
    `${Math.round(summary.perWorker)} examples/s per worker, ${Math.round(summary.examples / summary.seconds)} in total`);
  return summary;
}

/**
 * What stops a run from being aggregated: trained (dense or pruned) members that are missing,
 * damaged (model file not matching its record) or made with another config's seeds — e.g. shards
 * started with different settings under one run id. Empty when every member is there.
 */
export async function missingMembers(ctx: RunContext): Promise<string[]> {
  const problems: string[] = [];
  for (const level of ctx.levels.filter((l) => l.kind !== 'quantized')) {
    for (let m = 0; m < ctx.cfg.K; m++) {
      const record = (await finishedMember(ctx, level.name, m))?.record;
      const seed = memberSeed(ctx.cfg, level.name, m);
      if (!record) problems.push(`${level.name}/${m}`);
      else if (record.seed !== seed || record.targetSparsity !== level.sparsity) {
        problems.push(`${level.name}/${m} (made with seed ${record.seed}, sparsity ${record.targetSparsity}; this config gives ${seed}, ${level.sparsity})`);
      }
    }
  }
  return problems;
}

/** Post-training quantization of every dense member (METHOD.md: float16, int8 dynamic, full int8). */
export async function quantizePopulations(ctx: RunContext): Promise<number> {
  const quantized = ctx.levels.filter((l) => l.kind === 'quantized');
  if (!quantized.length) return 0;
  const inDim = ctx.dims[0];
  const nCal = Math.min(ctx.cfg.calibrationImages, ctx.data.train.n);
  const calibration = new Float32Array(nCal * inDim);
  for (let i = 0; i < calibration.length; i++) calibration[i] = ctx.data.train.images[i] * PIXEL_SCALE;
  const phase = ctx.progress.phase('quantize', quantized.length * ctx.cfg.K, 'models');
  let made = 0;
  // Quantized CNN members get a tfjs reference of their own, computed here (main thread, once per model).
  let reference: ((model: CompactModel) => string) | null = null;
  if (ctx.arch) {
    await (await import('./engine.ts')).initEngine(ctx.cfg.engine);
    const { quantizedReferencePredict } = await import('./cnn-quant-reference.ts');
    const test = Float32Array.from(ctx.data.test.images, (v) => v * PIXEL_SCALE);
    reference = (model) => toBase64(classArrayToBytes(quantizedReferencePredict(model as ArchCompactModel, test, ctx.data.test.n)));
  }
  for (let m = 0; m < ctx.cfg.K; m++) {
    const dense = await finishedMember(ctx, 'dense', m);
    if (!dense) throw new Error(`dense member ${m} is not trained yet: run 'pie train' first`);
    let weights: MlpWeights | null = null;
    for (const level of quantized) {
      if (!(await finishedMember(ctx, level.name, m))) {
        let model: CompactModel;
        if (ctx.arch) model = quantizedArchModel(decodeModel(dense.model), level.quantization!, calibration, nCal);
        else {
          weights ??= toMlpWeights(decodeModel(dense.model));
          model = level.quantization === 'float16' ? quantizeFloat16(weights)
            : level.quantization === 'int8-dynamic' ? quantizeInt8Dynamic(weights)
            : quantizeInt8Full(weights, calibration, nCal);
        }
        await saveMember(ctx, {
          level: level.name, member: m, seed: dense.record.seed, layerSparsity: dense.record.layerSparsity, targetSparsity: 0,
          ...(reference && { referencePredictions: reference(model) }),
        }, model);
        made++;
      }
      phase.tick(1);
    }
  }
  phase.done(`${made} quantized, ${quantized.length * ctx.cfg.K - made} already present`);
  return made;
}

export interface EvaluateSummary {
  predictions: ClassArray;
  records: MemberRecord[][];
  kernelAgreement: number;
  seconds: number;
  imagesPerSecond: number;
}

/**
 * The share of test predictions, pooled over the members trained with TensorFlow.js (whose tfjs
 * predictions are on record), on which the lib/ kernels (what the API runs) must agree with
 * TensorFlow.js; below it the run stops.
 * Not 1: float32 sums in a different order can flip a near-tie between two classes.
 */
export const MIN_KERNEL_AGREEMENT = 0.999;

/** Every model of every level on the test set with the lib/ kernels: predictions [levels × K × N]. */
export async function evaluatePopulations(ctx: RunContext): Promise<EvaluateSummary> {
  const { K } = ctx.cfg;
  const N = ctx.data.test.n;
  const members: { record: MemberRecord; model: Uint8Array }[][] = [];
  for (const level of ctx.levels) {
    const row = [];
    for (let m = 0; m < K; m++) {
      const member = await finishedMember(ctx, level.name, m);
      if (!member) throw new Error(`member ${level.name}/${m} of run ${ctx.runId} is missing or damaged: run 'pie train' first`);
      row.push(member);
    }
    members.push(row);
  }
  const records = members.map((row) => row.map((m) => m.record));
  const classBytes = classBytesFor(ctx.data.numClasses);
  const predictions = newClassArray(ctx.levels.length * K * N, classBytes);
  const shared = sharedData(ctx);
  const pool = new WorkerPool(Math.min(ctx.cfg.workers, ctx.levels.length * K), { engine: ctx.cfg.engine, ...shared });
  const phase = ctx.progress.phase('evaluate', ctx.levels.length * K, 'models');
  const started = performance.now();
  let agree = 0, compared = 0, qAgree = 0, qCompared = 0;
  try {
    await Promise.all(members.flatMap((row, t) => row.map(async ({ record, model }, m) => {
      const msg = await pool.run({ type: 'evaluate', model }) as Extract<WorkerMessage, { type: 'evaluated' }>;
      predictions.set(msg.predictions, (t * K + m) * N);
      if (record.tfjsPredictions) {
        const ref = classArrayFromBytes(fromBase64(record.tfjsPredictions), classBytes);
        for (let i = 0; i < N; i++) if (ref[i] === msg.predictions[i]) agree++;
        compared += N;
      }
      if (record.referencePredictions) {
        const ref = classArrayFromBytes(fromBase64(record.referencePredictions), classBytes);
        for (let i = 0; i < N; i++) if (ref[i] === msg.predictions[i]) qAgree++;
        qCompared += N;
      }
      phase.tick(1);
    })));
  } finally {
    await pool.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const kernelAgreement = compared ? agree / compared : 1;
  const imagesPerSecond = (ctx.levels.length * K * N) / seconds;
  const quantizedAgreement = qCompared ? qAgree / qCompared : null;
  phase.done(`${Math.round(imagesPerSecond)} images/s; kernels agree with tfjs on ${(kernelAgreement * 100).toFixed(3)} % of predictions` +
    (quantizedAgreement === null ? '' : `, quantized kernels with their fake-quantized tfjs reference on ${(quantizedAgreement * 100).toFixed(3)} %`));
  // One flipped near-tie is allowed however small the test set (a tiny run's 1 % is less than one image).
  if (quantizedAgreement !== null && qCompared - qAgree > Math.max(1, Math.floor((1 - MIN_QUANTIZED_AGREEMENT) * qCompared))) {
    throw new Error(`quantized lib/ kernels agree with their fake-quantized tfjs reference on only ${(quantizedAgreement * 100).toFixed(3)} % of test predictions (need ≥ ${MIN_QUANTIZED_AGREEMENT * 100} %)`);
  }
  if (kernelAgreement < MIN_KERNEL_AGREEMENT) {
    throw new Error(`lib/ kernels agree with tfjs on only ${(kernelAgreement * 100).toFixed(3)} % of test predictions (need ≥ ${MIN_KERNEL_AGREEMENT * 100} %)`);
  }
  return { predictions, records, kernelAgreement, seconds, imagesPerSecond };
}

/** Analysis, then every run file, then the manifest, then the `latest` pointer — in that order. */
export async function finishRun(ctx: RunContext, ev: EvaluateSummary, training: TrainSummary, extras?: RunExtras): Promise<Manifest> {
  const { cfg, data } = ctx;
  const classBytes = classBytesFor(data.numClasses);
  const labels = newClassArray(data.test.n, classBytes);
  labels.set(data.test.labels);
  const analysis: RunAnalysis = analyzeRun({
    predictions: ev.predictions, labels, numClasses: data.numClasses,
    levelNames: ctx.levels.map((l) => l.name), K: cfg.K, tieRule: cfg.tieRule, alpha: cfg.alpha,
  });
  const files: FileEntry[] = [];
  const put = async (path: string, bytes: Uint8Array, kind: FileEntry['kind']) => {
    await ctx.store.put(key(ctx, path), bytes);
    files.push({ path, bytes: bytes.length, sha256: await sha256Hex(bytes), kind });
  };
  await put(RUN_FILES.predictions, classArrayToBytes(ev.predictions), 'predictions');
  await put(RUN_FILES.analysis, new TextEncoder().encode(JSON.stringify(analysis.summary)), 'analysis');
  await put(RUN_FILES.evalImages, data.test.images, 'eval-images');
  await put(RUN_FILES.evalImageHashes, await imageHashes(data.test.images, data.test.n), 'other');
  await put(RUN_FILES.evalLabels, classArrayToBytes(labels), 'eval-labels');
  const datasetBytes = await ctx.store.get(key(ctx, RUN_FILES.dataset));
  files.push({ path: RUN_FILES.dataset, bytes: datasetBytes!.length, sha256: await sha256Hex(datasetBytes!), kind: 'dataset' });
  for (const row of ev.records) {
    for (const r of row) {
      files.push({ path: r.model.path, bytes: r.model.bytes, sha256: r.model.sha256, kind: 'model' });
      const recordPath = RUN_FILES.memberRecord(r.level, r.member);
      const recordBytes = await ctx.store.get(key(ctx, recordPath));
      files.push({ path: recordPath, bytes: recordBytes!.length, sha256: await sha256Hex(recordBytes!), kind: 'member-record' });
    }
  }
  if (extras) files.push(...extras.files);
  const trainedRecords = ev.records.flat().filter((r) => r.training);
  const memberSeconds = trainedRecords.reduce((a, r) => a + r.training!.seconds, 0);
  const memberExamples = trainedRecords.reduce((a, r) => a + r.training!.examples, 0);
  const levels: LevelEntry[] = ctx.levels.map((l, t) => ({
    name: l.name, kind: l.kind, sparsity: l.sparsity, quantization: l.quantization,
    format: ev.records[t][0].format,
    members: ev.records[t].map((r) => ({ model: r.model.path, seed: r.seed, layerSparsity: r.layerSparsity })),
  }));
  const engineBackend = training.engine?.backend ?? trainedRecords[0]?.training?.engine ?? 'unknown';
  const manifest: Manifest = {
    schemaVersion: MANIFEST_VERSION,
    runId: ctx.runId,
    createdAt: new Date().toISOString(),
    dataset: ctx.identity,
    architecture: ctx.arch ? archManifestEntry(ctx.arch) : { name: ctx.dims.length === 4 && ctx.dims[1] === 300 && ctx.dims[2] === 100 ? 'lenet-300-100' : `mlp-${ctx.dims.join('-')}`, dims: ctx.dims },
    engine: {
      backend: engineBackend,
      provider: training.engine?.provider ?? engineBackend,
      tfjsVersion: training.engine?.tfjsVersion ?? 'unknown',
      workers: cfg.workers,
    },
    K: cfg.K,
    classBytes,
    levels,
    settings: publishedSettings(cfg),
    metrics: {
      levels: analysis.summary.levels.map((l) => ({
        name: l.name, accuracy: l.accuracy, pieCount: l.pieCount, impacted: l.impacted, constantDiffering: l.constantDiffering, pieAccuracy: l.pieAccuracy,
      })),
      kernelAgreement: ev.kernelAgreement,
      training: {
        examplesPerSecondPerWorker: memberSeconds ? memberExamples / memberSeconds : 0,
        examplesPerSecondTotal: training.seconds ? training.examples / training.seconds : 0,
        seconds: training.seconds,
      },
      evaluation: { imagesPerSecond: ev.imagesPerSecond, seconds: ev.seconds },
    },
    files,
    ...(extras?.robustness && { robustness: extras.robustness }),
    ...(extras?.subgroups && { subgroups: extras.subgroups }),
  };
  const text = JSON.stringify(manifest, null, 1);
  parseManifest(text); // validate what we publish
  await ctx.store.put(key(ctx, RUN_FILES.manifest), text);
  await ctx.store.put(LATEST_KEY, `${ctx.runId}\n`);
  return manifest;
}

