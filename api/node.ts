/**
 * Node entry point: the API over the local run directory (the embedded default) or any other
 * store (an S3 bucket: `pie serve --store s3://bucket/prefix`), on node/server.ts's listener.
 * Settings come from the same variables as the Worker's (api/context.ts).
 */
import type { ServerType } from '@hono/node-server';
import type { Store } from '../lib/store.ts';
import { listen } from '../node/server.ts';
import { FsStore } from '../node/store-fs.ts';
import { createApp, type App } from './app.ts';
import { optionsFromEnv, type AppOptions } from './context.ts';
import { RunRepository } from './runs.ts';

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
  const repo = new RunRepository(opts.store ?? new FsStore(opts.runsDir!));
  const app = createApp(repo, options);
  const { url, server, close } = await listen(app.fetch, { port: opts.port, hostname: opts.hostname });
  return { url, app, repo, options, server, close };
}
