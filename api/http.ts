import type { Context } from 'hono';
import type { AppEnv } from './context.ts';
import type { LoadedRun } from './runs.ts';

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
  const scope = c.var.options.publicReads ? 'public' : 'private';
  const tag = `"${run.etag.slice(1, -1)}-${fnv1a(c.req.url).toString(36)}"`;
  c.header('Cache-Control', requested === 'latest' ? `${scope}, max-age=30` : `${scope}, max-age=31536000, immutable`);
  c.header('ETag', tag);
  c.header('X-Run-Id', run.runId);
  markStale(c, requested);
  const match = c.req.header('if-none-match');
  if (match && match.split(',').some((t) => t.trim().replace(/^W\//, '') === tag || t.trim() === '*')) {
    return c.body(null, 304);
  }
  return null;
}

/**
 * Says so when `latest` (or the run list) was answered from memory because the store is
 * unreachable: `X-Stale: <reason>`, and no caching downstream.
 */
export function markStale(c: Context<AppEnv>, requested = 'latest'): void {
  const stale = requested === 'latest' ? c.var.repo.stale : null;
  if (!stale) return;
  c.header('X-Stale', stale);
  c.header('Cache-Control', 'no-store');
}

/** 32-bit FNV-1a of a string. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The base of links in answers (`png`, `detail`): the configured public URL (PIE_PUBLIC_URL), or
 * none — links are then root-relative. Never the request's Host header: such answers are cached
 * for a year, and a forged Host would be cached with them.
 */
export function baseUrl(c: Context<AppEnv>): string {
  return c.var.options.publicUrl ?? '';
}
