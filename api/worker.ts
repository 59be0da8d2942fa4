/**
 * Cloudflare Workers entry point: the run comes from the R2 bucket bound as RUNS
 * (wrangler.toml); settings from its vars and secrets. The app and its loaded runs live as long
 * as the isolate, so model weights load once per isolate.
 *
 * Two entrypoints: the default one serves the API; `LevelHost` predicts groups of a run's
 * levels for a front Worker that spreads a live prediction over level hosts (api/level-hosts.ts)
 * through its service bindings PIE_LEVELS, PIE_LEVELS_2, PIE_LEVELS_3… Without such a binding,
 * every level is predicted in the front's own isolate, within its budget.
 */
import { WorkerEntrypoint } from 'cloudflare:workers';
// Bundled as text by the module rule in wrangler.toml.
import swaggerUiCss from 'swagger-ui-dist/swagger-ui.css';
import swaggerUiJs from 'swagger-ui-dist/swagger-ui-bundle.js';
import kernelsModule from '../lib/model/wasm/kernels.wasm';
import { installKernels } from '../lib/model/wasm/runtime.ts';
import { createApp, type App } from './app.ts';
import { accessProblem } from './auth.ts';
import { liveMemberPredictions } from './answer.ts';
import { optionsFromEnv, predictorBudgetFromEnv, type PredictMembers } from './context.ts';
import { answerLevelHostCall, spreadOverLevelHosts, type HostIsolate, type LevelHostBinding, type LevelHostCall, type LevelHostReply, type LevelHostStub } from './level-hosts.ts';
import { MB, PredictorCache } from './predictor-cache.ts';
import { R2Store } from './r2-store.ts';
import { RunRepository } from './runs.ts';

/** Secrets are set with `wrangler secret put`, so `wrangler types` cannot see them. */
export interface Secrets {
  PIE_API_KEYS?: string;
  LABEL_STUDIO_API_KEY?: string;
  LABEL_STUDIO_BASIC_AUTH_PASS?: string;
}

const WORKER_PREDICTOR_BUDGET_MB = 64;
const LEVEL_HOST_BINDING = /^PIE_LEVELS(?:_([2-9]|[1-9][0-9]))?$/;

/** The level-host service bindings in `env`, in order: PIE_LEVELS, then PIE_LEVELS_2, PIE_LEVELS_3… */
export function levelHostBindings(env: object): LevelHostBinding[] {
  return Object.entries(env)
    .map(([name, stub]) => {
      const m = LEVEL_HOST_BINDING.exec(name);
      return { name, stub: stub as LevelHostStub, n: m ? Number(m[1] ?? 1) : 0 };
    })
    .filter((b) => b.n > 0)
    .sort((a, b) => a.n - b.n)
    .map(({ name, stub }) => ({ name, stub }));
}

/** One isolate's API: the app, and the run repository its level-host calls share. */
export function createWorkerIsolate(env: Env & Secrets): HostIsolate & { app: App } {
  // Workers cannot compile wasm from bytes at run time: the module is bundled (wrangler's wasm rule).
  const kernels = installKernels(kernelsModule);
  const vars = { ...env } as unknown as Record<string, string | undefined>;
  const options = optionsFromEnv(vars);
  // An isolate has 128 MB, much of it the run's models: refuse images whose decoding would need over 48 MiB.
  options.imageLimits = { ...options.imageLimits, maxDecodeMemory: 48 * 1024 * 1024 };
  options.docsAssets = { js: swaggerUiJs as unknown as string, css: swaggerUiCss };
  const problem = accessProblem(options);
  if (problem) console.warn(`PIE Lens: ${problem}`);
  // Model weights within 64 MB by default: with the run's data and the runtime, well inside the isolate.
  const budget = predictorBudgetFromEnv(vars, WORKER_PREDICTOR_BUDGET_MB);
  const hosts = levelHostBindings(env);
  options.predictMembers = hosts.length ? spreadOverLevelHosts(hosts, budget) : alone(budget);
  const repo = new RunRepository(new R2Store(env.RUNS), {}, new PredictorCache(budget));
  return { app: createApp(repo, options), repo, id: crypto.randomUUID().slice(0, 8), wasmMemoryBytes: () => kernels.memoryBytes };
}

/**
 * Without level hosts every level is predicted here, as on Node; a run larger than the budget
 * then has its levels loaded and evicted in turn, read from R2 again on every all-levels
 * prediction: said once per run in the log.
 */
function alone(budget: number): PredictMembers {
  const told = new Set<string>();
  return (run, input, levels) => {
    const bytes = run.manifest.levels.reduce((a, _, t) => a + run.levelFileBytes(t), 0);
    if (bytes > budget && !told.has(run.runId) && told.size < 100) {
      told.add(run.runId);
      console.warn(`PIE Lens: run ${run.runId} has ${(bytes / MB).toFixed(1)} MB of model weights, more than the predictor budget of ${(budget / MB).toFixed(1)} MB, ` +
        'and no level hosts are bound (PIE_LEVELS): its levels take turns in this isolate and are read from R2 again on each all-levels prediction');
    }
    return liveMemberPredictions(run, input, levels);
  };
}

/** The app over a Worker's bindings and settings (the default export makes one per isolate). */
export function createWorkerApp(env: Env & Secrets): App {
  return createWorkerIsolate(env).app;
}

// Made on the first request: an isolate may not generate random values at start-up.
let isolate: ReturnType<typeof createWorkerIsolate> | null = null;

/**
 * Predicts the members of some of a run's levels on a model input the front Worker already
 * prepared (api/level-hosts.ts). Reachable only through a service binding: public requests
 * reach the default entrypoint alone.
 */
export class LevelHost extends WorkerEntrypoint<Env & Secrets> {
  predict(call: LevelHostCall): Promise<LevelHostReply> {
    isolate ??= createWorkerIsolate(this.env);
    return answerLevelHostCall(isolate, call);
  }
}

export default {
  fetch(request, env, ctx) {
    isolate ??= createWorkerIsolate(env);
    return isolate.app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env & Secrets>;
