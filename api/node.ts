/**
 * Node entry point: the API over the local run directory (the embedded default) or any other
 * store (an S3 bucket: `pie serve --store s3://bucket/prefix`), on node/server.ts's listener.
 * Settings come from the same variables as the Worker's (api/context.ts).
 */
import type { ServerType } from '@hono/node-server';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Store } from '../lib/store.ts';
import { listen } from '../node/server.ts';
import { FsStore } from '../node/store-fs.ts';
import { installNodeKernels } from '../node/wasm-kernels.ts';
import { createApp, type App } from './app.ts';
import { guardedFetch } from './node-fetch.ts';
import { createUploadPool } from './upload-pool.ts';
import { optionsFromEnv, predictorBudgetFromEnv, type AppOptions } from './context.ts';
import { PredictorCache } from './predictor-cache.ts';
import { DEFAULT_PREDICTOR_BUDGET_MB, RunRepository } from './runs.ts';

export interface NodeServerOptions {
  /** A local runs folder… */
  runsDir?: string;
  /** …or any store (wins over runsDir). */
  store?: Store;
  port?: number;
  hostname?: string;
  env?: Record<string, string | undefined>;
  /** Overrides on top of what the environment says. */
  options?: Partial<AppOptions>;
}

export interface NodeServer {
  url: string;
  app: App;
  repo: RunRepository;
  options: AppOptions;
  server: ServerType;
  /** Loaded model weights: the prediction threads' caches summed (or this thread's, without a pool). */
  predictorStats(): { threads: number; loads: number; evictions: number; usedBytes: number };
  close(): Promise<void>;
}

/** swagger-ui-dist's files, read once per server from the installed package. */
function docsAssets(): { js: string; css: string } {
  const resolve = createRequire(import.meta.url).resolve;
  const read = (file: string) => readFileSync(resolve(`swagger-ui-dist/${file}`), 'utf8');
  return { js: read('swagger-ui-bundle.js'), css: read('swagger-ui.css') };
}

export async function startNodeServer(opts: NodeServerOptions): Promise<NodeServer> {
  // No keys and no PIE_PUBLIC_READS=true: protected routes refuse (see accessProblem).
  const fromEnv = optionsFromEnv(opts.env ?? process.env);
  const options: AppOptions = { ...fromEnv, ...opts.options };
  options.fetch ??= guardedFetch({ allowPrivate: options.taskImages.allowPrivate });
  options.docsAssets ??= docsAssets();
  const env = opts.env ?? process.env;
  const count = (name: string) => (env[name] && /^[1-9][0-9]*$/.test(env[name]!.trim()) ? Number(env[name]) : undefined);
  if (!opts.store && !opts.runsDir) throw new Error('startNodeServer: give runsDir or store');
  const budget = predictorBudgetFromEnv(opts.env ?? process.env, DEFAULT_PREDICTOR_BUDGET_MB);
  // Uploads are decoded and predicted in worker threads, which hold the loaded models; the
  // repository's own predictor cache serves only callers that predict in this thread.
  const pool = options.prepareUpload ? null : createUploadPool({ threads: count('PIE_UPLOAD_THREADS'), queue: count('PIE_UPLOAD_QUEUE'), predictorBudgetBytes: budget });
  if (pool) {
    options.prepareUpload = (req) => pool.prepare(req);
    // An upload is prepared and predicted in one task, unless the caller predicts its own way.
    if (!options.predictMembers) {
      options.predictMembers = (run, input, levels) => pool.predict(run, input, levels);
      options.liveUpload ??= (run, req, levels) => pool.upload(run, req, levels);
    }
  }
  await installNodeKernels();
  const repo = new RunRepository(opts.store ?? new FsStore(opts.runsDir!), {}, new PredictorCache(budget));
  const app = createApp(repo, options);
  const { url, server, close } = await listen(app.fetch, { port: opts.port, hostname: opts.hostname });
  const inThread = () => ({ threads: 0, loads: repo.predictors.stats.loads, evictions: repo.predictors.stats.evictions, usedBytes: repo.predictors.usedBytes });
  return {
    url, app, repo, options, server,
    predictorStats: () => (pool && options.predictMembers ? pool.predictorStats() : inThread()),
    close: async () => { await close(); await pool?.close(); },
  };
}
