import { parseClassMap } from './label-studio/config.ts';
import type { ImageLimits } from './image/types.ts';
import type { RunRepository } from './runs.ts';

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
  };
  /** Limits on uploaded images (api/image); a Worker lowers the decoder memory limit. */
  imageLimits?: ImageLimits;
  /** fetch used for task images (tests inject one). */
  fetch?: typeof fetch;
}

export interface AppEnv {
  Variables: { repo: RunRepository; options: AppOptions };
}

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Reads the shared settings from string variables (process.env on Node, Worker vars/secrets). */
export function optionsFromEnv(env: Record<string, string | undefined>): AppOptions {
  const list = (v?: string) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const user = env.LABEL_STUDIO_BASIC_AUTH_USER, pass = env.LABEL_STUDIO_BASIC_AUTH_PASS;
  return {
    apiKeys: list(env.PIE_API_KEYS),
    publicReads: env.PIE_PUBLIC_READS === 'true' || env.PIE_PUBLIC_READS === '1',
    corsOrigins: list(env.PIE_CORS_ORIGINS),
    maxBodyBytes: Number(env.PIE_MAX_BODY_BYTES) > 0 ? Number(env.PIE_MAX_BODY_BYTES) : DEFAULT_MAX_BODY_BYTES,
    labelStudio: {
      url: env.LABEL_STUDIO_URL || undefined,
      apiKey: env.LABEL_STUDIO_API_KEY || undefined,
      basicAuth: user && pass ? { username: user, password: pass } : undefined,
      run: env.PIE_LABEL_STUDIO_RUN || 'latest',
      level: env.PIE_LABEL_STUDIO_LEVEL || undefined,
      classMap: parseClassMap(env.PIE_LABEL_STUDIO_CLASS_MAP),
    },
  };
}
