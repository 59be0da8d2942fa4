/**
 * Cloudflare Workers entry point: the run comes from the R2 bucket bound as RUNS
 * (wrangler.toml); settings from its vars and secrets. The app and its loaded runs live as long
 * as the isolate, so model weights load once per isolate.
 */
// Bundled as text by the module rule in wrangler.toml.
import swaggerUiCss from 'swagger-ui-dist/swagger-ui.css';
import swaggerUiJs from 'swagger-ui-dist/swagger-ui-bundle.js';
import { createApp, type App } from './app.ts';
import { accessProblem } from './auth.ts';
import { optionsFromEnv } from './context.ts';
import { R2Store } from './r2-store.ts';
import { RunRepository } from './runs.ts';

/** Secrets are set with `wrangler secret put`, so `wrangler types` cannot see them. */
export interface Secrets {
  PIE_API_KEYS?: string;
  LABEL_STUDIO_API_KEY?: string;
  LABEL_STUDIO_BASIC_AUTH_PASS?: string;
}

/** The app over a Worker's bindings and settings (the default export makes one per isolate). */
export function createWorkerApp(env: Env & Secrets): App {
  const options = optionsFromEnv({ ...env } as unknown as Record<string, string | undefined>);
  // An isolate has 128 MB, much of it the run's models: refuse images whose decoding would need over 48 MiB.
  options.imageLimits = { ...options.imageLimits, maxDecodeMemory: 48 * 1024 * 1024 };
  options.docsAssets = { js: swaggerUiJs as unknown as string, css: swaggerUiCss };
  const problem = accessProblem(options);
  if (problem) console.warn(`PIE Lens: ${problem}`);
  return createApp(new RunRepository(new R2Store(env.RUNS)), options);
}

let app: App | null = null;

export default {
  fetch(request, env, ctx) {
    app ??= createWorkerApp(env);
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env & Secrets>;
