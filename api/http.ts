import type { Context } from 'hono';
import type { AppEnv } from './context.ts';
import type { LoadedRun } from './runs.ts';
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
  const scope = c.var.options.publicReads ? 'public' : 'private';
  const tag = `"${run.etag.slice(1, -1)}-${fnv1a32(c.req.url).toString(36)}"`;
  c.header('Cache-Control', requested === 'latest' ? `${scope}, max-age=30` : `${scope}, max-age=31536000, immutable`);
  c.header('ETag', tag);
  c.header('X-Run-Id', run.runId);
  const match = c.req.header('if-none-match');
  if (match && match.split(',').some((t) => t.trim().replace(/^W\//, '') === tag || t.trim() === '*')) {
    return c.body(null, 304);
  }
  return null;
}

/** Base URL of this API as the client reached it (for links in answers). */
export function baseUrl(c: Context): string {
  const u = new URL(c.req.url);
  return `${u.protocol}//${u.host}`;
}
