/**
 * Cloudflare Workers entry point: the run comes from the R2 bucket bound as RUNS
 * (wrangler.toml); settings from its vars and secrets. The app and its loaded runs live as long
 * as the isolate, so model weights load once per isolate.
 */
import kernelsModule from '../lib/model/wasm/kernels.wasm';
import { installKernels } from '../lib/model/wasm/runtime.ts';
import { createApp, type App } from './app.ts';
import { optionsFromEnv, predictorBudgetFromEnv } from './context.ts';
import { PredictorCache } from './predictor-cache.ts';
import { R2Store } from './r2-store.ts';
import { RunRepository } from './runs.ts';

/** Secrets are set with `wrangler secret put`, so `wrangler types` cannot see them. */
interface Secrets {
  PIE_API_KEYS?: string;
  LABEL_STUDIO_API_KEY?: string;
  LABEL_STUDIO_BASIC_AUTH_PASS?: string;
}

let app: App | null = null;
const WORKER_PREDICTOR_BUDGET_MB = 64;

export default {
  fetch(request, env, ctx) {
    if (!app) {
      // Workers cannot compile wasm from bytes at run time: the module is bundled (wrangler's wasm rule).
      installKernels(kernelsModule);
      const options = optionsFromEnv({ ...env } as unknown as Record<string, string | undefined>);
      // An isolate has 128 MB, much of it the run's models: refuse images whose decoding would need over 48 MiB.
      options.imageLimits = { maxDecodeMemory: 48 * 1024 * 1024 };
      // Model weights within 64 MB by default: with the run's data and the runtime, well inside the isolate.
      const budget = predictorBudgetFromEnv({ ...env } as unknown as Record<string, string | undefined>, WORKER_PREDICTOR_BUDGET_MB);
      app = createApp(new RunRepository(new R2Store(env.RUNS), undefined, undefined, new PredictorCache(budget)), options);
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env & Secrets>;
