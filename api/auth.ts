import type { MiddlewareHandler } from 'hono';
import type { AppEnv, AppOptions } from './context.ts';
import { BadInput, Unauthorized } from './errors.ts';

/**
 * Compares in time independent of where the strings differ (API keys are secrets), UTF-16 code
 * unit by code unit: nothing is allocated on a request's path (charCodeAt past the end is NaN, | 0 is 0).
 */
export function safeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0, n = Math.max(a.length, b.length); i < n; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}

/**
 * The token of `Authorization: Bearer <token>` (RFC 6750: the scheme, one space, the token), null
 * without a bearer header, or 'malformed' for a bearer header in any other shape — tabs, several
 * spaces, trailing spaces, a second token — which is refused with a 400 rather than trimmed.
 */
export function bearerToken(header: string | undefined): string | null | 'malformed' {
  if (header === undefined || !/^bearer(\s|$)/i.test(header)) return null;
  const m = /^bearer ([\x21-\x7e]+)$/i.exec(header);
  return m ? m[1] : 'malformed';
}

export function hasValidKey(header: string | undefined, keys: string[]): boolean {
  const token = bearerToken(header);
  return token !== null && token !== 'malformed' && keys.some((k) => safeEqual(token, k));
}

/** Throws a 400 for a malformed bearer header (see bearerToken). */
export function checkBearerShape(header: string | undefined): void {
  if (bearerToken(header) === 'malformed') {
    throw new BadInput("malformed Authorization header: send exactly 'Bearer <key>' (one space, no tabs or trailing spaces)", 'malformed_authorization');
  }
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
  const options = c.get('options');
  const header = c.req.header('authorization');
  checkBearerShape(header);
  if (options.publicReads || hasValidKey(header, options.apiKeys)) return next();
  const problem = accessProblem(options);
  throw problem ? new Unauthorized(`this server refuses every request: ${problem}`) : new Unauthorized();
};
