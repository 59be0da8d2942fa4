import { Command, Option } from 'commander';
import { basename, resolve } from 'node:path';
import { latestRunId, getText } from '../lib/store.ts';
import { parseManifest, RUN_FILES } from '../lib/manifest.ts';
import { ConfigError, resolveConfig, type RunConfig, type RunConfigInput } from './config.ts';
import { DatasetError } from './data.ts';
import { evaluatePopulations, finishRun, prepareRun, quantizePopulations, trainPopulations, type TrainSummary } from './pipeline.ts';
import { createProgress } from './progress.ts';
import { formatReport } from './report.ts';
import { FsStore } from './store-fs.ts';

interface RunFlags {
  preset: string; config?: string; quiet?: boolean; dataset?: string; dataDir?: string;
  trainLimit?: number; testLimit?: number; k?: number; epochs?: number; sparsities?: number[];
  workers?: number; engine?: RunConfig['engine']; seed?: number; runsDir?: string; runId?: string;
  batchSize?: number; learningRate?: number; serve?: boolean; port?: number; host?: string;
}

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
    .option('--dataset <kind>', 'fashion-mnist | idx | synthetic')
    .option('--data-dir <dir>', 'folder with IDX files (train-/t10k-images-idx3-ubyte[.gz], …), e.g. MNIST')
    .option('--train-limit <n>', 'use only the first n training images', int)
    .option('--test-limit <n>', 'use only the first n test images', int)
    .option('-K, --k <n>', 'members per level', int)
    .option('--epochs <n>', 'training epochs per member', int)
    .option('--batch-size <n>', 'minibatch size', int)
    .option('--learning-rate <x>', 'Adam learning rate', num)
    .option('--sparsities <list>', 'pruning targets, e.g. 0.5,0.9,0.99', (v: string) => v.split(',').map(num))
    .option('--workers <n>', 'worker threads (default: one per core)', int)
    .addOption(new Option('--engine <name>', 'tfjs backend').choices(['auto', 'tensorflow', 'wasm', 'cpu']))
    .option('--seed <n>', 'base seed', int)
    .option('--runs-dir <dir>', 'local store for runs', 'runs')
    .option('--run-id <id>', 'run id (default: derived from the settings, so a re-run resumes)')
    .option('-q, --quiet', 'plain progress lines instead of bars (CI logs)');
}

function configFrom(flags: RunFlags): RunConfig {
  const over: Record<string, unknown> = {
    K: flags.k, epochs: flags.epochs, sparsities: flags.sparsities, workers: flags.workers, engine: flags.engine,
    seed: flags.seed, runsDir: flags.runsDir, runId: flags.runId, batchSize: flags.batchSize, learningRate: flags.learningRate,
  };
  if (flags.dataset === 'synthetic') {
    over.dataset = { kind: 'synthetic' };
  } else if (flags.dataset || flags.dataDir || flags.trainLimit || flags.testLimit) {
    if (flags.dataset === 'idx' && !flags.dataDir) throw new ConfigError('--dataset idx needs --data-dir <folder with the IDX files>');
    over.dataset = {
      kind: 'idx',
      name: flags.dataDir ? basename(resolve(flags.dataDir)) : 'fashion-mnist',
      dir: flags.dataDir, trainLimit: flags.trainLimit, testLimit: flags.testLimit,
    };
  }
  return resolveConfig(flags.preset, flags.config, over as RunConfigInput);
}

async function train(flags: RunFlags, evaluate: boolean) {
  const cfg = configFrom(flags);
  const progress = createProgress({ quiet: !!flags.quiet });
  const store = new FsStore(resolve(cfg.runsDir));
  const ctx = prepareRun(cfg, store, progress);
  progress.log(`run ${ctx.runId}: ${ctx.data.name} (${ctx.data.train.n} train / ${ctx.data.test.n} test), ` +
    `levels ${ctx.levels.map((l) => l.name).join(', ')}, K = ${cfg.K}, ${cfg.epochs} epochs, ${cfg.workers} workers`);
  const started = performance.now();
  const training: TrainSummary = await trainPopulations(ctx);
  if (training.engine) progress.log(`engine: ${training.engine.backend} (${training.engine.provider} ${training.engine.tfjsVersion})`);
  await quantizePopulations(ctx);
  if (!evaluate) return;
  const ev = await evaluatePopulations(ctx);
  const manifest = await finishRun(ctx, ev, training);
  progress.log(`run written to ${resolve(cfg.runsDir, ctx.runId)} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  console.log(formatReport(manifest));
  if (flags.serve) await serveRuns({ runsDir: cfg.runsDir, port: flags.port ?? 8787, host: flags.host ?? '127.0.0.1' });
}

async function serveRuns(flags: { runsDir: string; port: number; host: string }) {
  const { startNodeServer } = await import('../api/node.ts');
  const server = await startNodeServer({ runsDir: resolve(flags.runsDir), port: flags.port, hostname: flags.host });
  const access = server.options.publicReads ? 'reads are public (set PIE_API_KEYS to require keys)' : 'send Authorization: Bearer <key>';
  console.log(`\nPIE Lens API serving ${resolve(flags.runsDir)} at ${server.url}  (${access})`);
  console.log(`  ${server.url}/v1/runs/latest   ${server.url}/docs   Ctrl-C to stop`);
  const stop = () => { void server.close().then(() => process.exit(0)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function evaluateOnly(flags: RunFlags) {
  const cfg = configFrom(flags);
  const progress = createProgress({ quiet: !!flags.quiet });
  const ctx = prepareRun(cfg, new FsStore(resolve(cfg.runsDir)), progress);
  await quantizePopulations(ctx);
  const ev = await evaluatePopulations(ctx);
  const none: TrainSummary = { trained: 0, skipped: 0, examples: 0, seconds: 0, engine: null, perWorker: 0 };
  console.log(formatReport(await finishRun(ctx, ev, none)));
}

async function report(flags: { runsDir: string; run?: string; json?: boolean }) {
  const store = new FsStore(resolve(flags.runsDir));
  const runId = flags.run ?? (await latestRunId(store));
  if (!runId) throw new ConfigError(`no finished run in ${resolve(flags.runsDir)}: run 'pie run' first`);
  const text = await getText(store, `${runId}/${RUN_FILES.manifest}`);
  if (!text) throw new ConfigError(`run '${runId}' not found in ${resolve(flags.runsDir)}`);
  const manifest = parseManifest(text);
  console.log(flags.json ? JSON.stringify(manifest.metrics, null, 2) : formatReport(manifest));
}

export function buildCli(): Command {
  const program = new Command('pie')
    .description('PIE Lens: train dense, pruned and quantized populations and find the images compression forgets (PIEs).')
    .showHelpAfterError();
  withRunOptions(program.command('run').description('train, compress, evaluate, analyse and report (the main job)'))
    .option('--serve', 'then serve the API over the runs directory')
    .option('--port <n>', 'API port (with --serve)', int, 8787)
    .option('--host <addr>', 'API address (with --serve)', '127.0.0.1')
    .action((flags: RunFlags) => train(flags, true));
  withRunOptions(program.command('train').description('train the dense and pruned populations and quantize the dense members (resumable)'))
    .action((flags: RunFlags) => train(flags, false));
  withRunOptions(program.command('evaluate').description("evaluate every member of a trained run, analyse, and write the manifest"))
    .action((flags: RunFlags) => evaluateOnly(flags));
  program.command('serve').description('serve the PIE Lens API over a runs directory (Node)')
    .option('--runs-dir <dir>', 'local store for runs', 'runs')
    .option('--port <n>', 'port', int, 8787)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .action(serveRuns);
  program.command('report').description('print the per-level table of a finished run')
    .option('--runs-dir <dir>', 'local store for runs', 'runs')
    .option('--run <id>', 'run id (default: the latest)')
    .option('--json', 'print the metrics as JSON')
    .action(report);
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof DatasetError) {
      console.error(`pie: ${err.message}`);
      process.exitCode = 2;
    } else {
      console.error(err);
      process.exitCode = 1;
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('cli.ts')) {
  await main();
}
