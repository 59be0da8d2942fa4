import { parseClassMap } from './label-studio/config.ts';
import { parseAllowedOrigins, type FetchPolicy } from './fetch-policy.ts';
import type { ImageLimits } from '../lib/image/types.ts';
import type { DocsAssets } from './routes/docs.ts';
import type { ClassArray } from '../lib/class-array.ts';
import type { LevelHostFigures } from './level-hosts.ts';
import type { Prepared, PrepareRequest } from './upload.ts';
import type { LoadedRun, RunRepository } from './runs.ts';
import type { AnswerCache } from './answer-cache.ts';

/**
 * Every member of the given levels (indices; default all) on a prepared model input:
 * [levels × K], entries of other levels 0. `note` receives what each level host did, when the
 * prediction was spread over hosts (api/level-hosts.ts).
 */
export type PredictMembers = (run: LoadedRun, input: Float32Array, levels?: readonly number[], note?: (hosts: LevelHostFigures[]) => void) => Promise<ClassArray>;

/** Decodes, preprocesses and predicts an upload in one step: the prepared input and its member predictions (as PredictMembers). */
export type LiveUpload = (run: LoadedRun, req: PrepareRequest, levels?: readonly number[]) => Promise<{ prepared: Prepared; predictions: ClassArray }>;

/** Settings of one API instance; the Node and Workers entry points fill them from their environment. */
export interface AppOptions {
  /** Bearer tokens accepted on every route but health and the API docs. */
  apiKeys: string[];
  /** Serve every route without a key (no route changes anything: reads and live predictions). */
  publicReads: boolean;
  /** Origins allowed by CORS ('*' for any); empty = no CORS headers. */
  corsOrigins: string[];
  /** Largest accepted request body, bytes. */
  maxBodyBytes: number;
  /** Base of absolute links in answers (PIE_PUBLIC_URL, e.g. https://pie.example.com); unset: root-relative links. */
  publicUrl?: string;
  /** Memory for serialized dataset-image answers kept for reuse (PIE_ANSWER_CACHE_MB; default DEFAULT_ANSWER_CACHE_BYTES). */
  answerCacheBytes?: number;
  labelStudio: {
    /** Base URL of the Label Studio instance, to resolve its relative /data/... task URLs. */
    url?: string;
    /** Its API token, sent as `Authorization: Token …` when fetching those URLs. */
    apiKey?: string;
    /** HTTP Basic credentials Label Studio must send to the ML backend routes, if set. */
    basicAuth?: { username: string; password: string };
    /** The run whose models answer Label Studio (default: latest). */
    run: string;
    /** Level whose PIE status scores a task (default: the most compressed pruned level). */
    level?: string;
    /** Class name → choice value, for projects whose choices are named differently (PIE_LABEL_STUDIO_CLASS_MAP). */
    classMap?: Record<string, string>;
    /** Most tasks one /ml/predict request may carry (PIE_ML_MAX_TASKS, default 100); more → 413. */
    maxTasks: number;
  };
  /** Fetching task images on a caller's behalf (the Label Studio backend). */
  taskImages: FetchPolicy & {
    /** Time for one image, redirects included (PIE_FETCH_TIMEOUT_MS, default 10 000). */
    timeoutMs: number;
    /** Largest image downloaded, bytes (PIE_FETCH_MAX_BYTES, default 8 MiB). */
    maxBytes: number;
    /** Downloads in flight at once across all requests of this instance (PIE_FETCH_CONCURRENCY, default 4). */
    maxConcurrent: number;
  };
  /** Limits on uploaded images (lib/image); a Worker lowers the decoder memory limit. */
  imageLimits?: ImageLimits;
  /** Decodes and preprocesses uploads (Node: a worker pool); default inline. */
  prepareUpload?: (req: PrepareRequest) => Promise<Prepared>;
  /** Live member predictions of a prepared upload (Workers with level hosts: spread over them); default in this isolate or process. */
  predictMembers?: PredictMembers;
  /** Both in one step (Node: one task of the worker pool, one thread round trip instead of two); wins over the two above. */
  liveUpload?: LiveUpload;
  /** swagger-ui's assets for /docs (the entry points supply them). */
  docsAssets?: DocsAssets;
  /** fetch used for task images (tests inject one). */
  fetch?: typeof fetch;
}

export interface AppEnv {
  Variables: { repo: RunRepository; options: AppOptions; answers: AnswerCache };
}

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
/** 4 MiB, 3 % of a Workers isolate: about 650 answers of an ImageNet-shaped run (10 levels, K = 30: 6.3 KiB each). */
export const DEFAULT_ANSWER_CACHE_BYTES = 4 * 1024 * 1024;

/** A positive integer setting, or its default when unset; anything else is a start-up error. */
function intSetting(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const v = env[name]?.trim();
  if (!v) return fallback;
  if (!/^[1-9][0-9]*$/.test(v)) throw new RangeError(`${name} must be a positive integer, got '${v.slice(0, 40)}'`);
  return Number(v);
}

function flag(v?: string): boolean {
  return v === 'true' || v === '1';
}

function publicUrl(v?: string): string | undefined {
  if (!v?.trim()) return undefined;
  let u: URL;
  try { u = new URL(v.trim()); } catch { throw new RangeError(`PIE_PUBLIC_URL '${v.slice(0, 100)}' is not a URL`); }
  if (!/^https?:$/.test(u.protocol) || u.search || u.hash) throw new RangeError(`PIE_PUBLIC_URL '${v.slice(0, 100)}' must be an http(s) URL without query or fragment`);
  return u.href.replace(/\/+$/, '');
}

function originOf(url?: string): string[] {
  if (!url) return [];
  try { return [new URL(url).origin]; } catch { throw new RangeError(`LABEL_STUDIO_URL '${url.slice(0, 100)}' is not a URL`); }
}

/** Reads the shared settings from string variables (process.env on Node, Worker vars/secrets). */
export function optionsFromEnv(env: Record<string, string | undefined>): AppOptions {
  const list = (v?: string) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const user = env.LABEL_STUDIO_BASIC_AUTH_USER, pass = env.LABEL_STUDIO_BASIC_AUTH_PASS;
  return {
    apiKeys: list(env.PIE_API_KEYS),
    publicReads: flag(env.PIE_PUBLIC_READS),
    corsOrigins: list(env.PIE_CORS_ORIGINS),
    publicUrl: publicUrl(env.PIE_PUBLIC_URL),
    maxBodyBytes: Number(env.PIE_MAX_BODY_BYTES) > 0 ? Number(env.PIE_MAX_BODY_BYTES) : DEFAULT_MAX_BODY_BYTES,
    answerCacheBytes: intSetting(env, 'PIE_ANSWER_CACHE_MB', DEFAULT_ANSWER_CACHE_BYTES / 1024 / 1024) * 1024 * 1024,
    labelStudio: {
      url: env.LABEL_STUDIO_URL || undefined,
      apiKey: env.LABEL_STUDIO_API_KEY || undefined,
      basicAuth: user && pass ? { username: user, password: pass } : undefined,
      run: env.PIE_LABEL_STUDIO_RUN || 'latest',
      level: env.PIE_LABEL_STUDIO_LEVEL || undefined,
      classMap: parseClassMap(env.PIE_LABEL_STUDIO_CLASS_MAP),
      maxTasks: intSetting(env, 'PIE_ML_MAX_TASKS', 100),
    },
    imageLimits: env.PIE_DECODE_BUDGET_BYTES ? { maxDecodeBytes: intSetting(env, 'PIE_DECODE_BUDGET_BYTES', 0) } : undefined,
    taskImages: {
      allowedOrigins: [...originOf(env.LABEL_STUDIO_URL), ...parseAllowedOrigins(list(env.PIE_FETCH_ORIGINS))],
      allowPrivate: flag(env.PIE_FETCH_ALLOW_PRIVATE),
      timeoutMs: intSetting(env, 'PIE_FETCH_TIMEOUT_MS', 10_000),
      maxBytes: intSetting(env, 'PIE_FETCH_MAX_BYTES', DEFAULT_MAX_BODY_BYTES),
      maxConcurrent: intSetting(env, 'PIE_FETCH_CONCURRENCY', 4),
    },
  };
}

/**
 * The predictor memory budget in bytes from PIE_PREDICTOR_BUDGET_MB (model weights held by
 * loaded levels; whole levels are evicted least recently used beyond it), else `defaultMb`.
 */
export function predictorBudgetFromEnv(env: Record<string, string | undefined>, defaultMb: number): number {
  const raw = env.PIE_PREDICTOR_BUDGET_MB;
  const mb = raw === undefined || raw === '' ? defaultMb : Number(raw);
  if (!(mb > 0)) throw new Error(`PIE_PREDICTOR_BUDGET_MB must be a positive number of megabytes, got '${raw}'`);
  return mb * 1024 * 1024;
}
