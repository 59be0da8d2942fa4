import type { Context } from 'hono';
import type { AppEnv, AppOptions } from './context.ts';
import type { LoadedRun, RunRepository } from './runs.ts';
import { fnv1a32 } from '../lib/hash.ts';

/**
 * Cache headers for run data. A run named by id never changes: cache it for a year. 'latest'
 * moves when a new run is published: a short max-age. `private` unless reads are public, so
 * shared caches never keep data served to a key holder.
 *
 * The ETag is the run's manifest hash plus a hash of the URL: a response is a pure function of
 * the two. Why not hono's etag middleware: it hashes every body (SHA-1), which took two thirds
 * of a dataset-image lookup's time; this one answers 304 before any work is done.
 * Returns the 304 response when the client's copy is current, else null.
 */
export function runCaching(c: Context<AppEnv>, requested: string, run: LoadedRun): Response | null {
  const headers = runCacheHeaders(c.get('options'), c.get('repo'), requested, run, c.req.url);
  for (const name in headers) c.header(name, headers[name]);
  return notModified(c.req.header('if-none-match'), headers.ETag) ? c.body(null, 304) : null;
}

/** runCaching's headers as a plain record (X-Stale included), for a handler that builds its Response itself. */
export function runCacheHeaders(options: AppOptions, repo: RunRepository, requested: string, run: LoadedRun, url: string): Record<string, string> & { ETag: string } {
  const scope = options.publicReads ? 'public' : 'private';
  const headers = {
    'Cache-Control': requested === 'latest' ? `${scope}, max-age=30` : `${scope}, max-age=31536000, immutable`,
    ETag: `"${run.etag.slice(1, -1)}-${fnv1a32(url).toString(36)}"`,
    'X-Run-Id': run.runId,
  } as Record<string, string> & { ETag: string };
  const stale = requested === 'latest' ? repo.stale : null;
  if (stale) {
    headers['X-Stale'] = stale;
    headers['Cache-Control'] = 'no-store';
  }
  return headers;
}

/** If-None-Match names this ETag (weakly or strongly) or is `*`. */
export function notModified(ifNoneMatch: string | undefined, tag: string): boolean {
  return !!ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === tag || t.trim() === '*');
}

/**
 * Says so when `latest` (or the run list) was answered from memory because the store is
 * unreachable: `X-Stale: <reason>`, and no caching downstream.
 */
export function markStale(c: Context<AppEnv>, requested = 'latest'): void {
  const stale = requested === 'latest' ? c.get('repo').stale : null;
  if (!stale) return;
  c.header('X-Stale', stale);
  c.header('Cache-Control', 'no-store');
}

/**
 * The query as Hono's validators see it (a key given once → its value, several times → all of
 * them), without parsing anything when the URL has no query.
 */
export function queryRecord(c: Context): Record<string, string | string[]> {
  if (!c.req.url.includes('?')) return {};
  return Object.fromEntries(Object.entries(c.req.queries()).map(([k, v]) => [k, v.length === 1 ? v[0] : v]));
}

/**
 * The base of links in answers (`png`, `detail`): the configured public URL (PIE_PUBLIC_URL), or
 * none — links are then root-relative. Never the request's Host header: such answers are cached
 * for a year, and a forged Host would be cached with them.
 */
export function baseUrl(c: Context<AppEnv>): string {
  return c.get('options').publicUrl ?? '';
}
