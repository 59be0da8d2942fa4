/**
 * Node entry point: the API over the local run directory (the embedded default) or any other
 * store (an S3 bucket: `pie serve --store s3://bucket/prefix`) with @hono/node-server.
 * Settings come from the same variables as the Worker's (api/context.ts).
 */
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Store } from '../lib/store.ts';
import { FsStore } from '../trainer/store-fs.ts';
import { installNodeKernels } from '../trainer/wasm-kernels.ts';
import { createApp, type App } from './app.ts';
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
  close(): Promise<void>;
}

export async function startNodeServer(opts: NodeServerOptions): Promise<NodeServer> {
  const fromEnv = optionsFromEnv(opts.env ?? process.env);
  // Locally, with no keys configured, reads are public: the default must work offline, at once.
  if (!fromEnv.apiKeys.length && (opts.env ?? process.env).PIE_PUBLIC_READS === undefined) fromEnv.publicReads = true;
  const options: AppOptions = { ...fromEnv, ...opts.options };
  if (!opts.store && !opts.runsDir) throw new Error('startNodeServer: give runsDir or store');
  await installNodeKernels();
  const budget = predictorBudgetFromEnv(opts.env ?? process.env, DEFAULT_PREDICTOR_BUDGET_MB);
  const repo = new RunRepository(opts.store ?? new FsStore(opts.runsDir!), undefined, new PredictorCache(budget));
  const app = createApp(repo, options);
  const hostname = opts.hostname ?? '127.0.0.1';
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: opts.port ?? 8787, hostname }, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  return {
    url: `http://${host}:${port}`,
    app, repo, options, server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
