import type { MiddlewareHandler } from 'hono';
import type { AppEnv, AppOptions } from './context.ts';
import { Unauthorized } from './errors.ts';

/** Compares in time independent of where the strings differ (API keys are secrets). */
export function safeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

export function hasValidKey(header: string | undefined, keys: string[]): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return !!m && keys.some((k) => safeEqual(m[1].trim(), k));
}

/**
 * Why every protected route refuses, or null when some request can pass: no keys are configured
 * and reads are not explicitly public. Auth fails closed — an empty or blank PIE_API_KEYS never
 * opens the API; only PIE_PUBLIC_READS=true does.
 */
export function accessProblem(options: Pick<AppOptions, 'apiKeys' | 'publicReads'>): string | null {
  if (options.publicReads || options.apiKeys.length) return null;
  return 'no API keys are configured (PIE_API_KEYS) and reads are not public (PIE_PUBLIC_READS=true), so every route but /health, /docs and the page refuses';
}

/** Bearer API keys on every route this is mounted on, unless reads are public. */
export const requireApiKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { apiKeys, publicReads } = c.var.options;
  if (publicReads || hasValidKey(c.req.header('authorization'), apiKeys)) return next();
  const problem = accessProblem(c.var.options);
  throw problem ? new Unauthorized(`this server refuses every request: ${problem}`) : new Unauthorized();
};
