import { sha256Hex } from '../lib/hash.ts';
import { parseManifest, RUN_FILES, type FileEntry } from '../lib/manifest.ts';
import { LATEST_KEY, latestRunId, type Store } from '../lib/store.ts';
import { withRetry, type RetryOptions } from '../node/retry.ts';

export interface PublishOptions {
  /** Objects uploaded at once. Default 8. */
  concurrency?: number;
  /** Point `latest` at the run once it is whole. Default true. */
  setLatest?: boolean;
  /** Whole-object retries, on top of the S3 client's own per-request retries. */
  retry?: RetryOptions;
  log?: (line: string) => void;
}

export interface PublishResult {
  runId: string;
  /** Files the manifest lists, and their total size. */
  files: number;
  bytes: number;
  uploaded: number;
  uploadedBytes: number;
  /** Already in the destination with the right size and SHA-256. */
  skipped: number;
  retries: number;
  /** Whether `latest` now names this run (false with setLatest: false). */
  latest: boolean;
  seconds: number;
}

export class PublishError extends Error {}

/**
 * Copies one finished run from `src` (the trainer's local store) to `dst` (a bucket) so that a
 * reader of `dst` never sees it partly: every file the manifest lists first, each checked against
 * the manifest's size and SHA-256 before upload and once uploaded; then the manifest, which makes
 * the run exist; then `latest`, which makes it the served one. Killed at any point, it leaves the
 * previous run served, and running it again uploads only what is missing or different.
 */
export async function publishRun(src: Store, dst: Store, runId: string, opts: PublishOptions = {}): Promise<PublishResult> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const manifestKey = `${runId}/${RUN_FILES.manifest}`;
  const manifestBytes = await src.get(manifestKey);
  if (!manifestBytes) throw new PublishError(`run '${runId}' has no manifest in the source store: finish it first ('pie run', 'pie evaluate' or 'pie aggregate')`);
  const manifest = parseManifest(new TextDecoder().decode(manifestBytes));
  if (manifest.runId !== runId) throw new PublishError(`the manifest under '${runId}/' names run '${manifest.runId}'`);

  const result: PublishResult = {
    runId, files: manifest.files.length, bytes: manifest.files.reduce((a, f) => a + f.bytes, 0),
    uploaded: 0, uploadedBytes: 0, skipped: 0, retries: 0, latest: false, seconds: 0,
  };
  const retry: RetryOptions = {
    ...opts.retry,
    onRetry: (err, attempt, delay) => {
      result.retries++;
      log(`publish: retry ${attempt} in ${Math.round(delay)} ms after ${describe(err)}`);
      opts.retry?.onRetry?.(err, attempt, delay);
    },
  };
  log(`publish: run ${runId}, ${result.files} files (${formatBytes(result.bytes)}) and its manifest`);

  const copy = async (entry: Pick<FileEntry, 'path' | 'bytes' | 'sha256'>, bytes?: Uint8Array) => {
    const key = `${runId}/${entry.path}`;
    if (await withRetry(() => matches(dst, key, entry), retry)) {
      result.skipped++;
      return;
    }
    const data = bytes ?? (await src.get(key));
    if (!data) throw new PublishError(`run ${runId}: ${entry.path} is listed in the manifest but missing from the source store`);
    if (data.length !== entry.bytes || (await sha256Hex(data)) !== entry.sha256) {
      throw new PublishError(`run ${runId}: the source's ${entry.path} does not match its manifest (size or SHA-256); it was changed or damaged after the run finished`);
    }
    await withRetry(async () => {
      await dst.put(key, data);
      if (!(await matches(dst, key, entry))) {
        throw Object.assign(new Error(`${entry.path} reads back with a different size or SHA-256 after upload`), { transient: true });
      }
    }, retry);
    result.uploaded++;
    result.uploadedBytes += data.length;
  };

  await forEachLimit(manifest.files, opts.concurrency ?? 8, (f) => copy(f));
  await copy({ path: RUN_FILES.manifest, bytes: manifestBytes.length, sha256: await sha256Hex(manifestBytes) }, manifestBytes);
  if (opts.setLatest ?? true) {
    const before = await withRetry(() => latestRunId(dst), retry);
    if (before !== runId) await withRetry(() => dst.put(LATEST_KEY, `${runId}\n`), retry);
    result.latest = true;
    log(`publish: latest → ${runId}${before && before !== runId ? ` (was ${before})` : ''}`);
  }
  result.seconds = (performance.now() - started) / 1000;
  log(`publish: done in ${result.seconds.toFixed(1)} s — ${result.uploaded} uploaded (${formatBytes(result.uploadedBytes)}, ` +
    `${formatBytes(result.uploadedBytes / Math.max(result.seconds, 1e-3))}/s), ${result.skipped} already present (skipped), ${result.retries} retries`);
  return result;
}

/** Whether `key` in the store has the entry's size and SHA-256 (from metadata when the store keeps it, else by reading it). */
async function matches(store: Store, key: string, entry: Pick<FileEntry, 'bytes' | 'sha256'>): Promise<boolean> {
  const info = await store.head(key);
  if (!info || info.size !== entry.bytes) return false;
  if (info.sha256) return info.sha256 === entry.sha256;
  const bytes = await store.get(key);
  return !!bytes && bytes.length === entry.bytes && (await sha256Hex(bytes)) === entry.sha256;
}

async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

function describe(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  return [e?.name, e?.code, status && `HTTP ${status}`, e?.message].filter(Boolean).join(': ').slice(0, 200);
}

/** Decimal units (1 MB = 10⁶ bytes), as throughput is usually quoted. */
export function formatBytes(n: number): string {
  if (n < 1e3) return `${Math.round(n)} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}
