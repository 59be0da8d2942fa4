import { Command, Option } from 'commander';
import { basename, resolve } from 'node:path';
import { isDeletable, latestRunId, getText, type Store } from '../lib/store.ts';
import { parseManifest, RUN_FILES } from '../lib/manifest.ts';
import { ConfigError, withArch, resolveConfig, type RunConfig, type RunConfigInput } from '../trainer/config.ts';
import { DatasetError, detectFormat } from '../trainer/data.ts';
import {
  evaluatePopulations, finishRun, missingMembers, prepareRun, quantizePopulations, trainPopulations, type RunContext, type TrainSummary,
} from '../trainer/pipeline.ts';
import { createProgress, type Progress } from '../trainer/progress.ts';
import { formatBytes, PublishError, publishRun } from '../trainer/publish.ts';
import { formatReport } from '../trainer/report.ts';
import { formatRobustnessReport, formatSubgroupReport, robustnessOverrides, storedRobustnessReports, testLabels } from '../trainer/robustness-report.ts';
import { AttributesError, checkRobustnessInputs, robustnessExtras } from '../trainer/robustness.ts';
import { listRuns, pruneRuns } from '../trainer/retention.ts';
import { parseShard, shardFilter, trainedMembers } from '../trainer/shard.ts';
import { describeStore, openBucket, openStore, s3Settings, StoreSettingsError } from '../node/stores.ts';
import { labelStudioConfig, studyTable, type StudyConfigFlags, type StudyFlags } from './study.ts';

/** Where runs are read and written, and how to reach S3 (credentials come from the AWS SDK's own chain). */
interface StoreFlags {
  store?: string; runsDir?: string; endpoint?: string; region?: string; pathStyle?: boolean;
}
/** Where a finished run is published. */
interface PublishFlags extends StoreFlags {
  bucket?: string; prefix?: string; concurrency?: number; latest?: boolean;
}

export interface RunFlags extends PublishFlags {
  preset: string; config?: string; quiet?: boolean; dataset?: string; dataDir?: string;
  format?: 'idx' | 'cifar' | 'folder'; testFraction?: number; skipBadImages?: boolean; imageSize?: number; grayscale?: boolean;
  cifarLabels?: 'fine' | 'coarse';
  trainLimit?: number; testLimit?: number; k?: number; epochs?: number; sparsities?: number[];
  workers?: number; engine?: RunConfig['engine']; seed?: number; runId?: string;
  batchSize?: number; learningRate?: number; serve?: boolean; port?: number; host?: string; publicReads?: boolean;
  shard?: string; publish?: boolean; ifComplete?: boolean;
  corruptions?: string; severities?: number[]; attributes?: string;
  arch?: 'mlp' | 'lenet5' | 'resnet'; depth?: number; width?: number; conv?: number[]; dense?: number[];
}

/** For the steps that train nothing themselves (the manifest then reports the members' own figures). */
const NO_TRAINING: TrainSummary = { trained: 0, skipped: 0, examples: 0, seconds: 0, engine: null, perWorker: 0 };

/** Errors whose message says it all: printed without a stack trace. */
class IncompleteRun extends Error {}

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ConfigError(`'${v}' is not an integer`);
  return n;
};
const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ConfigError(`'${v}' is not a number`);
  return n;
};

function withRunOptions(cmd: Command): Command {
  return cmd
    .option('--preset <name>', 'quick (default), paper, or tiny (synthetic data, seconds)', 'quick')
    .option('--config <file>', 'JSON file overriding preset settings (see trainer/config.ts)')
    .addOption(new Option('--dataset <kind>', 'fashion-mnist, idx (with --data-dir) or synthetic').choices(['fashion-mnist', 'idx', 'synthetic']))
    .option('--data-dir <dir>', 'your dataset: IDX files (MNIST layout), CIFAR-10/100 binary batches, or an image folder (train/<class>/*, test/<class>/*); the format is detected')
    .addOption(new Option('--format <kind>', 'force the format of --data-dir').choices(['idx', 'cifar', 'folder']))
    .option('--test-fraction <x>', 'image folder without test/: fraction of each class held out (default 0.2)', num)
    .option('--skip-bad-images', 'image folder: leave out files that are not images or fail to decode (counted in the manifest)')
    .option('--image-size <n>', 'image folder or CIFAR: resize every image to n × n', int)
    .option('--grayscale', 'image folder or CIFAR: train on luminance only')
    .addOption(new Option('--cifar-labels <kind>', 'CIFAR-100: fine (default) or coarse labels').choices(['fine', 'coarse']))
    .option('--train-limit <n>', 'use only the first n training images', int)
    .option('--test-limit <n>', 'use only the first n test images', int)
    .option('-K, --k <n>', 'members per level', int)
    .option('--epochs <n>', 'training epochs per member', int)
    .addOption(new Option('--arch <name>', 'model architecture (default: the preset\'s; mlp = LeNet-300-100)').choices(['mlp', 'lenet5', 'resnet']))
    .option('--depth <n>', 'resnet: depth 6n+2 (8, 14, 20)', int)
    .option('--width <n>', 'resnet: filters of the first stage (doubling per stage)', int)
    .option('--conv <list>', 'lenet5: filters of the two conv layers, e.g. 6,16', (v: string) => v.split(',').map(int))
    .option('--dense <list>', 'lenet5: hidden dense widths, e.g. 120,84', (v: string) => v.split(',').map(int))
    .option('--batch-size <n>', 'minibatch size', int)
    .option('--learning-rate <x>', 'Adam learning rate', num)
    .option('--sparsities <list>', 'pruning targets, e.g. 0.5,0.9,0.99', (v: string) => v.split(',').map(num))
    .option('--workers <n>', 'worker threads (default: one per core)', int)
    .addOption(new Option('--engine <name>', 'tfjs backend').choices(['auto', 'tensorflow', 'wasm', 'cpu']))
    .option('--seed <n>', 'base seed', int)
    .option('--corruptions <list>', "also evaluate every member on corrupted test sets: 'all', 'none' or names, e.g. motion_blur,fog (lib/corrupt)")
    .option('--severities <list>', 'corruption severities, e.g. 1,3,5 (default: 3)', (v: string) => v.split(',').map(int))
    .option('--attributes <file.csv>', 'categorical attributes per test image (header row; image index or path, then columns) for the subgroup analysis')
    // No commander default: the preset, then the config file's runsDir, apply below the flag.
    .option('--runs-dir <dir>', "local store for runs (default: the config file's runsDir, else runs)")
    .option('--run-id <id>', 'run id (default: derived from the settings, so a re-run resumes)')
    .option('-q, --quiet', 'plain progress lines instead of bars (CI logs)')
    .addOption(storeOption());
}

function storeOption(): Option {
  return new Option('--store <where>', 'where runs are read and written: a folder or s3://bucket/prefix (default: --runs-dir)').env('PIE_STORE');
}

/** The store options of the commands that only read or manage runs. */
function withStoreOptions(cmd: Command): Command {
  return withS3Options(cmd).option('--runs-dir <dir>', 'local store for runs', 'runs').addOption(storeOption());
}

/** How to reach an S3-compatible service (AWS S3, Cloudflare R2, MinIO…). */
function withS3Options(cmd: Command): Command {
  return cmd
    .option('--endpoint <url>', 'S3-compatible endpoint, e.g. https://<account>.r2.cloudflarestorage.com (env PIE_S3_ENDPOINT or AWS_ENDPOINT_URL_S3; default AWS S3)')
    .option('--region <name>', "bucket region (default: the AWS SDK's, from AWS_REGION or the profile; 'auto' with a custom endpoint)")
    .option('--path-style', 'path-style bucket URLs (default: on with a custom endpoint; env PIE_S3_FORCE_PATH_STYLE)');
}

function withPublishOptions(cmd: Command): Command {
  return withS3Options(cmd)
    .option('--bucket <name>', 'bucket to publish to (env PIE_S3_BUCKET)')
    .option('--prefix <path>', 'key prefix inside the bucket (env PIE_S3_PREFIX; default: the bucket root)')
    .option('--concurrency <n>', 'objects uploaded at once', int, 8);
}

/** --store (or PIE_STORE) when given, else the local runs folder. */
async function storeFrom(flags: StoreFlags, runsDir = flags.runsDir ?? 'runs'): Promise<Store> {
  return openStore(flags.store ?? runsDir, s3Settings(flags));
}

/** Publishes a finished run from `source` to the bucket the flags name (see trainer/publish.ts). */
async function publishTo(flags: PublishFlags, source: Store, runId: string, progress: Progress) {
  const bucket = await openBucket(flags, s3Settings(flags));
  progress.log(`publish: ${describeStore(source)} → ${describeStore(bucket)}`);
  return publishRun(source, bucket, runId, { concurrency: flags.concurrency, setLatest: flags.latest ?? true, log: progress.log });
}

export function configFrom(flags: RunFlags): RunConfig {
  const over: Record<string, unknown> = {
    K: flags.k, epochs: flags.epochs, sparsities: flags.sparsities, workers: flags.workers, engine: flags.engine,
    seed: flags.seed, runsDir: flags.runsDir, runId: flags.runId, batchSize: flags.batchSize, learningRate: flags.learningRate,
    ...robustnessOverrides(flags),
  };
  // --dataset / --data-dir name a whole dataset (replacing the config's); the limits only narrow
  // whichever dataset the preset, config file and those flags give.
  const limits = { trainLimit: flags.trainLimit, testLimit: flags.testLimit };
  const format = flags.dataDir && flags.dataset !== 'synthetic' && flags.dataset !== 'fashion-mnist'
    ? flags.format ?? (flags.dataset === 'idx' ? 'idx' : detectFormat(flags.dataDir))
    : flags.format;
  if (flags.format && !flags.dataDir) throw new ConfigError(`--format ${flags.format} needs --data-dir <folder>`);
  if (flags.dataDir && format === null) {
    throw new ConfigError(`cannot tell the format of ${flags.dataDir}: it holds no IDX files (train-/t10k-images-idx3-ubyte[.gz]), ` +
      'no CIFAR binary batches (data_batch_1.bin … / train.bin, test.bin), and no image folder (train/<class>/*, or <class>/* subfolders); ' +
      'check the path, or force one with --format idx|cifar|folder');
  }
  const shape = { imageSize: flags.imageSize, grayscale: flags.grayscale };
  if (format !== 'folder' && (flags.testFraction !== undefined || flags.skipBadImages)) {
    throw new ConfigError('--test-fraction and --skip-bad-images apply to image folders only');
  }
  if (format !== 'folder' && format !== 'cifar' && (flags.imageSize !== undefined || flags.grayscale)) {
    throw new ConfigError('--image-size and --grayscale apply to image folders and CIFAR only');
  }
  if (flags.dataset === 'synthetic') {
    if (flags.dataDir) throw new ConfigError('--data-dir is for your own data, not --dataset synthetic');
    over.dataset = { kind: 'synthetic', ...limits };
  } else if (format === 'cifar') {
    over.dataset = { kind: 'cifar', name: basename(resolve(flags.dataDir!)), dir: flags.dataDir, labels: flags.cifarLabels, ...limits, ...shape };
  } else if (format === 'folder') {
    if (flags.trainLimit !== undefined || flags.testLimit !== undefined) throw new ConfigError('--train-limit and --test-limit apply to IDX and CIFAR data, not image folders');
    over.dataset = {
      kind: 'folder', name: basename(resolve(flags.dataDir!)), dir: flags.dataDir, testFraction: flags.testFraction,
      skipBadImages: flags.skipBadImages, ...shape,
    };
  } else if (flags.dataset || flags.dataDir) {
    if (flags.dataset === 'idx' && !flags.dataDir) throw new ConfigError('--dataset idx needs --data-dir <folder with the IDX files>');
    if (flags.dataset === 'fashion-mnist' && flags.dataDir) throw new ConfigError('--dataset fashion-mnist reads the installed Fashion-MNIST: use --dataset idx with --data-dir');
    over.dataset = { kind: 'idx', name: flags.dataDir ? basename(resolve(flags.dataDir)) : 'fashion-mnist', dir: flags.dataDir, ...limits };
  } else if (flags.trainLimit !== undefined || flags.testLimit !== undefined) {
    over.dataset = limits;
  }
  const cfg = resolveConfig(flags.preset, flags.config, over as RunConfigInput);
  const sizes = { depth: flags.depth, width: flags.width, conv: flags.conv, dense: flags.dense };
  return flags.arch || Object.values(sizes).some((v) => v !== undefined) ? withArch(cfg, flags.arch, sizes) : cfg;
}

/** Loads the data and trains this invocation's members (all of them, or one shard's). */
async function trainRun(flags: RunFlags) {
  const cfg = configFrom(flags);
  const progress = createProgress({ quiet: !!flags.quiet });
  const store = await storeFrom(flags, cfg.runsDir);
  const ctx = await prepareRun(cfg, store, progress);
  checkRobustnessInputs(ctx); // a bad attributes file or severity fails before training, not after
  const shard = flags.shard === undefined ? null : parseShard(flags.shard);
  const only = shard ? shardFilter(cfg, shard) : undefined;
  progress.log(`run ${ctx.runId}: ${ctx.data.name} (${ctx.data.train.n} train / ${ctx.data.test.n} test), ` +
    `levels ${ctx.levels.map((l) => l.name).join(', ')}, K = ${cfg.K}, ${cfg.epochs} epochs, ${cfg.workers} workers`);
  if (shard) {
    const all = trainedMembers(cfg);
    progress.log(`shard ${shard.index}/${shard.count}: ${all.filter((p) => only!(p.level, p.member)).length} of ${all.length} trained members, into ${describeStore(store)}`);
  }
  const started = performance.now();
  const training: TrainSummary = await trainPopulations(ctx, only);
  if (training.engine) progress.log(`engine: ${training.engine.backend} (${training.engine.provider} ${training.engine.tfjsVersion})`);
  return { ctx, store, shard, training, started };
}

/** `pie run`: train, then quantize, evaluate, analyse and report; serve with --serve. */
async function runCommand(flags: RunFlags) {
  const { ctx, store, shard, training, started } = await trainRun(flags);
  // Quantized members derive from dense ones that other shards may own: 'pie aggregate' makes them.
  if (shard) return;
  await completeRun(ctx, training, flags, started);
  if (flags.serve) await serveRuns({ ...flags, port: flags.port ?? 8787, host: flags.host ?? '127.0.0.1' }, store);
}

/** `pie train`: train and quantize only; `pie evaluate` or `pie aggregate` finishes the run. */
async function trainCommand(flags: RunFlags) {
  const { ctx, shard } = await trainRun(flags);
  if (!shard) await quantizePopulations(ctx);
}

/** Quantize, evaluate, analyse, write the run (manifest and `latest` last), print the report, publish if asked. */
async function completeRun(ctx: RunContext, training: TrainSummary, flags: RunFlags, started = performance.now()) {
  await quantizePopulations(ctx);
  const ev = await evaluatePopulations(ctx);
  const extras = await robustnessExtras(ctx, ev, testLabels(ctx));
  const manifest = await finishRun(ctx, ev, training, extras);
  ctx.progress.log(`run written to ${describeStore(ctx.store)}/${ctx.runId} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  console.log(formatReport(manifest));
  if (extras.robustnessSummary) console.log(`\n${formatRobustnessReport(extras.robustnessSummary)}`);
  if (extras.subgroupSummary) console.log(`\n${formatSubgroupReport(extras.subgroupSummary)}`);
  if (flags.publish) await publishTo(flags, ctx.store, ctx.runId, ctx.progress);
}

/**
 * The step after sharded training: checks that every member of the run is present and whole,
 * then quantizes, evaluates, analyses and writes the manifest and `latest` (and publishes with
 * --publish). With --if-complete, a run still missing members is not an error — each shard can
 * end with it, and the one that finishes the set aggregates.
 */
async function aggregate(flags: RunFlags) {
  const cfg = configFrom(flags);
  const progress = createProgress({ quiet: !!flags.quiet });
  const store = await storeFrom(flags, cfg.runsDir);
  const ctx = await prepareRun(cfg, store, progress);
  const missing = await missingMembers(ctx);
  if (missing.length) {
    const what = `${missing.length} of ${trainedMembers(cfg).length} members of run ${ctx.runId} are not finished or not valid: ` +
      `${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', …' : ''}`;
    if (flags.ifComplete) { progress.log(`aggregate: ${what}; not aggregating yet`); return; }
    throw new IncompleteRun(`${what} (train them with 'pie train --shard i/n')`);
  }
  if (flags.ifComplete && (await latestRunId(store)) === ctx.runId && (await store.head(`${ctx.runId}/${RUN_FILES.manifest}`))) {
    progress.log(`aggregate: run ${ctx.runId} is already aggregated and latest`);
    return;
  }
  progress.log(`aggregate: all ${trainedMembers(cfg).length} trained members of run ${ctx.runId} present and valid`);
  await completeRun(ctx, NO_TRAINING, flags);
}

async function publish(flags: PublishFlags & { run?: string; quiet?: boolean }) {
  const progress = createProgress({ quiet: !!flags.quiet });
  const source = await storeFrom(flags);
  const runId = flags.run ?? (await latestRunId(source));
  if (!runId) throw new ConfigError(`no finished run in ${describeStore(source)}: run 'pie run' first, or name one with --run`);
  const r = await publishTo(flags, source, runId, progress);
  console.log(`published ${r.runId}: ${r.uploaded} uploaded (${formatBytes(r.uploadedBytes)}), ${r.skipped} already present, ` +
    `${r.retries} uploaded again, ${r.seconds.toFixed(1)} s${r.latest ? '; latest points to it' : ''}`);
}

async function runsList(flags: StoreFlags & { json?: boolean }) {
  const runs = await listRuns(await storeFrom(flags));
  if (flags.json) { console.log(JSON.stringify(runs, null, 2)); return; }
  for (const r of runs) {
    console.log(`${r.latest ? '*' : ' '} ${r.runId.padEnd(40)} ${(r.createdAt ?? 'partial').padEnd(24)} ${String(r.objects).padStart(5)} objects ${formatBytes(r.bytes).padStart(9)}`);
  }
  if (!runs.length) console.log('no runs');
}

async function runsPrune(flags: StoreFlags & { keep: number; dryRun?: boolean }) {
  const store = await storeFrom(flags);
  if (!isDeletable(store)) throw new ConfigError(`${describeStore(store)} cannot delete objects`);
  const plan = await pruneRuns(store, flags.keep, { dryRun: flags.dryRun, log: (l) => console.log(l) });
  console.log(`${flags.dryRun ? 'would delete' : 'deleted'} ${plan.remove.length} run(s), kept ${plan.keep.length}` +
    ` (the ${flags.keep} newest finished, latest, and partial runs)`);
}

async function serveRuns(flags: StoreFlags & { port: number; host: string; publicReads?: boolean }, store?: Store) {
  const { startNodeServer } = await import('../api/node.ts');
  const { accessProblem } = await import('../api/auth.ts');
  const source = store ?? (await storeFrom(flags));
  const server = await startNodeServer({ store: source, port: flags.port, hostname: flags.host, options: flags.publicReads ? { publicReads: true } : {} });
  const problem = accessProblem(server.options);
  if (problem) console.warn(`\nWARNING: ${problem}. Set PIE_API_KEYS, or PIE_PUBLIC_READS=true (--public-reads) to serve without keys.`);
  const access = problem ? 'protected routes refuse' : server.options.publicReads ? 'reads are public (set PIE_API_KEYS and drop PIE_PUBLIC_READS to require keys)' : 'send Authorization: Bearer <key>';
  console.log(`\nPIE Lens API serving ${describeStore(source)} at ${server.url}  (${access})`);
  console.log(`  ${server.url}/v1/runs/latest   ${server.url}/docs   Ctrl-C to stop`);
  const stop = () => { void server.close().then(() => process.exit(0)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function evaluateOnly(flags: RunFlags) {
  const cfg = configFrom(flags);
  const ctx = await prepareRun(cfg, await storeFrom(flags, cfg.runsDir), createProgress({ quiet: !!flags.quiet }));
  await completeRun(ctx, NO_TRAINING, flags);
}

async function report(flags: StoreFlags & { run?: string; json?: boolean }) {
  const store = await storeFrom(flags);
  const runId = flags.run ?? (await latestRunId(store));
  if (!runId) throw new ConfigError(`no finished run in ${describeStore(store)}: run 'pie run' first`);
  const text = await getText(store, `${runId}/${RUN_FILES.manifest}`);
  if (!text) throw new ConfigError(`run '${runId}' not found in ${describeStore(store)}`);
  const manifest = parseManifest(text);
  console.log(flags.json ? JSON.stringify(manifest.metrics, null, 2) : formatReport(manifest));
  if (!flags.json) for (const extra of await storedRobustnessReports(store, manifest)) console.log(`\n${extra}`);
}

/** `pie analyze [run]`: the analysis of a finished run again, with other settings, from its stored predictions. */
async function analyze(run: string | undefined, flags: StoreFlags & { tieRule?: 'largest' | 'smallest'; alpha?: number }) {
  const { reanalyzeRun, ReanalyzeError } = await import('../trainer/reanalyze.ts');
  const store = await storeFrom(flags);
  const runId = run ?? (await latestRunId(store));
  if (!runId) throw new ConfigError(`no finished run in ${describeStore(store)}: run 'pie run' first, or name one`);
  if (flags.alpha !== undefined && !(flags.alpha > 0 && flags.alpha < 1)) throw new ConfigError(`--alpha: expected a number in (0, 1), got ${flags.alpha}`);
  try {
    const { summary } = await reanalyzeRun(store, runId, { tieRule: flags.tieRule, alpha: flags.alpha });
    console.log(`analysed ${runId} again (tie rule ${summary.tieRule}, alpha ${summary.alpha}): ` +
      summary.levels.slice(1).map((l) => `${l.name} ${l.pieCount} PIEs, ${l.impacted.down} down / ${l.impacted.up} up`).join('; '));
  } catch (err) {
    if (err instanceof ReanalyzeError) throw new ConfigError(err.message);
    throw err;
  }
}

async function synthesize(flags: StoreFlags & { runId: string; classes: number; images: number; K: number; imageSize: number; seed: number }) {
  const { writeSyntheticRun } = await import('../lib/synthetic.ts');
  const store = await storeFrom(flags);
  const started = performance.now();
  const m = await writeSyntheticRun(store, { runId: flags.runId, numClasses: flags.classes, images: flags.images, K: flags.K, imageSize: flags.imageSize, seed: flags.seed });
  console.log(`wrote ${m.runId} to ${describeStore(store)} in ${((performance.now() - started) / 1000).toFixed(1)} s: ` +
    `${m.levels.length} levels × K = ${m.K}, ${m.dataset.testSize} images, ${m.dataset.numClasses} classes (predictions synthesised, no training)`);
  console.log(formatReport(m));
}

export function buildCli(): Command {
  const program = new Command('pie')
    .description('PIE Lens: train dense, pruned and quantized populations and find the images compression forgets (PIEs).')
    .showHelpAfterError();
  withPublishOptions(withRunOptions(program.command('run').description('train, compress, evaluate, analyse and report (the main job)')))
    .option('--publish', 'then publish the run to the bucket (--bucket / PIE_S3_BUCKET)')
    .option('--serve', 'then serve the API over the store')
    .option('--port <n>', 'API port (with --serve)', int, 8787)
    .option('--host <addr>', 'API address (with --serve)', '127.0.0.1')
    .option('--public-reads', 'serve without API keys (with --serve; as PIE_PUBLIC_READS=true)')
    .action(runCommand);
  withS3Options(withRunOptions(program.command('train').description('train the dense and pruned populations and quantize the dense members (resumable)')))
    .option('--shard <i/n>', "train only shard i of n (0-based) of the members, for 'pie aggregate' to finish")
    .action(trainCommand);
  withS3Options(withRunOptions(program.command('evaluate').description('evaluate every member of a trained run, analyse, and write the manifest')))
    .action((flags: RunFlags) => evaluateOnly(flags));
  withPublishOptions(withRunOptions(program.command('aggregate')
    .description('after sharded training: check every member, quantize, evaluate, analyse, write the manifest and latest')))
    .option('--if-complete', 'exit quietly (status 0) while members are missing, and when the run is already aggregated')
    .option('--publish', 'then publish the run to the bucket (--bucket / PIE_S3_BUCKET)')
    .action((flags: RunFlags) => aggregate(flags));
  withPublishOptions(program.command('publish').description('upload a finished run to S3-compatible storage (resumable; latest last)'))
    .option('--runs-dir <dir>', 'local store for runs', 'runs')
    .addOption(storeOption())
    .option('--run <id>', 'run id (default: the latest)')
    .option('--no-latest', 'upload the run without pointing latest at it')
    .option('-q, --quiet', 'plain progress lines')
    .action(publish);
  const runs = program.command('runs').description('list the runs of a store, and delete old ones');
  withStoreOptions(runs.command('list').description('every run: finished newest first (* = latest), then partial ones'))
    .option('--json', 'as JSON')
    .action(runsList);
  withStoreOptions(runs.command('prune').description('delete finished runs but the N newest; never the latest, never a partial run'))
    .requiredOption('--keep <n>', 'finished runs to keep besides latest', int)
    .option('--dry-run', 'print what would be deleted')
    .action(runsPrune);
  withStoreOptions(program.command('serve').description('serve the PIE Lens API (Node) over a runs directory or a bucket'))
    .option('--port <n>', 'port', int, 8787)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--public-reads', 'serve without API keys (as PIE_PUBLIC_READS=true)')
    .action((flags: StoreFlags & { port: number; host: string; publicReads?: boolean }) => serveRuns(flags));
  withStoreOptions(program.command('synthesize').description('write a generated run of any shape (no training; ImageNet shape by default) for scale tests'))
    .option('--run-id <id>', 'run id', 'synthetic-imagenet-shape')
    .option('--classes <n>', 'number of classes', int, 1000)
    .option('--images <n>', 'evaluation images', int, 50_000)
    .option('-K <n>', 'members per level (10 levels)', int, 30)
    .option('--image-size <px>', 'image height = width (grayscale)', int, 32)
    .option('--seed <n>', 'seed', int, 1)
    .action(synthesize);
  withStoreOptions(program.command('report').description('print the per-level table of a finished run'))
    .option('--run <id>', 'run id (default: the latest)')
    .option('--json', 'print the metrics as JSON')
    .action(report);
  withStoreOptions(program.command('analyze').argument('[run]', 'run id (default: the latest)')
    .description('analyse a finished run again from its stored predictions (no training), e.g. with another tie rule or alpha'))
    .addOption(new Option('--tie-rule <rule>', "modal-label tie rule (default: the run's)").choices(['largest', 'smallest']))
    .option('--alpha <p>', "significance level of the class tests (default: the run's)", num)
    .action(analyze);

  const ls = program.command('label-studio').description('Label Studio helpers');
  withStoreOptions(ls.command('config').description("the human study: print a labeling config (class + the paper's categories) and write the tasks, a level's PIEs and as many random non-PIEs"))
    .requiredOption('--level <name>', 'compressed level whose PIEs to study, e.g. p90')
    .option('--run <id>', 'run id (default: the latest)')
    .option('--seed <n>', 'seed of the non-PIE sample and the task order', int, 1)
    .option('--max-pies <n>', 'at most this many PIEs (a seeded sample), and as many non-PIEs', int)
    .option('--url <url>', "this API's URL as Label Studio reaches it (task images)", 'http://127.0.0.1:8787')
    .option('--tasks <file>', 'where to write the tasks (Label Studio import JSON)', 'pie-study-tasks.json')
    .option('--inline', 'put the images in the tasks as data: URLs (needed when reads need an API key)')
    .action(async (flags: StudyConfigFlags & StoreFlags) => labelStudioConfig(await storeFrom(flags), flags));
  withStoreOptions(program.command('study').description("tally a study's Label Studio JSON export: per category, PIEs vs non-PIEs, with intervals and tests"))
    .requiredOption('--export <file>', 'the project\'s Export → JSON file')
    .option('--run <id>', 'run id (default: the one the tasks name)')
    .option('--json', 'print the table as JSON')
    .action(async (flags: StudyFlags & StoreFlags) => studyTable(await storeFrom(flags), flags));
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof DatasetError || err instanceof StoreSettingsError || err instanceof AttributesError) {
      console.error(`pie: ${err.message}`);
      process.exitCode = 2;
    } else if (err instanceof PublishError || err instanceof IncompleteRun) {
      console.error(`pie: ${err.message}`);
      process.exitCode = 1;
    } else {
      console.error(err);
      process.exitCode = 1;
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('cli/pie.ts')) {
  await main();
}
