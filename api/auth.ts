import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './context.ts';
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

/** Bearer API keys on every route this is mounted on, unless reads are public. */
export const requireApiKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { apiKeys, publicReads } = c.var.options;
  if (publicReads || hasValidKey(c.req.header('authorization'), apiKeys)) return next();
  throw new Unauthorized();
};
