/**
 * Fetches the image a Label Studio task points to, the way label-studio-sdk's `get_local_path`
 * does (src/label_studio_sdk/_extensions/label_studio_tools/core/utils/io.py) minus its disk
 * cache and local-directory shortcuts: Label Studio's own paths are resolved against its URL
 * and sent with its API token; other http(s) URLs are fetched only from the origins the fetch
 * policy allows (api/fetch-policy.ts), checked again at every redirect.
 */
import { checkFetchUrl, FetchRefused, type FetchPolicy } from '../fetch-policy.ts';

/**
 * Why a task's image could not be had:
 * - `no_image`: the task data has no image reference;
 * - `unsupported_url`: not http(s), data:, a Label Studio path or a cloud storage URI;
 * - `no_label_studio_url` / `no_label_studio_token`: a Label Studio path, but LABEL_STUDIO_URL /
 *   LABEL_STUDIO_API_KEY is not configured;
 * - `bad_data_url`: a data: URL that does not decode;
 * - `image_too_large`: over the download limit;
 * - `fetch_refused`: the fetch policy does not allow the URL (or a redirect's target);
 * - `fetch_failed` / `fetch_timeout`: a network error, a non-2xx status, or too slow.
 * `requested` says whether a request had gone out: what follows one is the network's answer,
 * which a client must not see (it would make the API a port scanner).
 */
export type TaskImageErrorCode =
  | 'no_image' | 'unsupported_url' | 'no_label_studio_url' | 'no_label_studio_token'
  | 'bad_data_url' | 'image_too_large' | 'fetch_refused' | 'fetch_failed' | 'fetch_timeout';

export class TaskImageError extends Error {
  override name = 'TaskImageError';
  constructor(readonly code: TaskImageErrorCode, message: string, options?: { cause?: unknown; status?: number; requested?: boolean }) {
    super(message, options);
    this.status = options?.status;
    this.requested = options?.requested ?? options?.status !== undefined;
  }

  /** A request went out before this failure. */
  readonly requested: boolean;

  /** The HTTP status of a failed download, if there was one. */
  readonly status?: number;
}

export interface TaskImageOptions {
  /** Label Studio's base URL (LABEL_STUDIO_URL), for its relative /data/... paths. */
  labelStudioUrl?: string;
  /** Its API token (LABEL_STUDIO_API_KEY): a legacy token or a personal access token. */
  apiKey?: string;
  /** The Authorization header for Label Studio (default: labelStudioAuthorizer, once per call). */
  authorize?: () => Promise<string>;
  /** The task's id: cloud storage URIs are presigned through /tasks/<id>/presign/. */
  taskId?: string | number;
  fetch: typeof fetch;
  /** Where requests may go; checked before the first request and at every redirect. */
  policy: FetchPolicy;
  /** Largest image accepted, bytes. */
  maxBytes: number;
  /** Time allowed for the whole download, redirects included. */
  timeoutMs: number;
}

export interface TaskImage { bytes: Uint8Array; contentType?: string }

const MAX_REDIRECTS = 5;
const CLOUD_URI = /^(s3|gs|azure-blob):/i;

/** Whether a task data value looks like an image reference (for tasks whose key is not in the config). */
export function looksLikeImageRef(v: unknown): v is string {
  return typeof v === 'string' && /^(https?:\/\/|data:image\/|\/?data\/|\/?upload\/|\/?storage-data\/|s3:|gs:|azure-blob:)/i.test(v.trim());
}

function jwtPart(token: string, part: 0 | 1): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return null;
  try {
    const v: unknown = JSON.parse(atob(parts[part].replace(/-/g, '+').replace(/_/g, '/')));
    return v && typeof v === 'object' ? v as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

/**
 * The header label-studio-sdk sends for a token it can use as is (io.py `_build_headers`):
 * `Bearer` for a JWT, `Token` for the legacy API token.
 */
export function labelStudioAuthHeader(apiKey: string): string {
  return typeof jwtPart(apiKey, 0)?.alg === 'string' ? `Bearer ${apiKey}` : `Token ${apiKey}`;
}

/**
 * The Authorization header for Label Studio, worked out on first use and then reused (make one
 * per /predict request). A personal access token is a JWT refresh token: it is exchanged at
 * /api/token/refresh/ for an access token, as label-studio-sdk does
 * (src/label_studio_sdk/tokens/client_ext.py `TokensClientExt.api_key`). Any other token is
 * sent as it is.
 */
export function labelStudioAuthorizer(opts: Pick<TaskImageOptions, 'labelStudioUrl' | 'apiKey' | 'fetch' | 'timeoutMs' | 'policy'>): () => Promise<string> {
  let header: Promise<string> | null = null;
  const exchange = async (refresh: string): Promise<string> => {
    const url = `${opts.labelStudioUrl!.replace(/\/+$/, '')}/api/token/refresh/`;
    let res: Response;
    try {
      checkFetchUrl(new URL(url), opts.policy);
      res = await opts.fetch(url, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh }),
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
    } catch (err) {
      if (err instanceof FetchRefused) throw new TaskImageError('fetch_refused', `POST ${url} refused: ${err.message}`);
      throw new TaskImageError('fetch_failed', `POST ${url}: ${(err as Error).message}`, { cause: err, requested: true });
    }
    const body = res.ok ? await res.json().catch(() => null) as { access?: unknown } | null : null;
    if (typeof body?.access !== 'string') {
      throw new TaskImageError('fetch_failed', `Label Studio did not exchange its personal access token for an access token (POST ${url} → ${res.status})`, { status: res.status });
    }
    return `Bearer ${body.access}`;
  };
  return () => {
    const key = opts.apiKey!;
    header ??= jwtPart(key, 1)?.token_type === 'refresh' ? exchange(key) : Promise.resolve(labelStudioAuthHeader(key));
    return header;
  };
}

/**
 * The bytes behind a task's image reference: a data: URL (decoded here), an http(s) URL, a
 * Label Studio path (/data/upload/…, upload/…, /data/local-files/?d=…, /storage-data/…) or a
 * cloud storage URI (s3://, gs://, azure-blob://, presigned by Label Studio). Throws
 * TaskImageError; never sends the token anywhere but to Label Studio's origin.
 */
export async function loadTaskImage(ref: string, opts: TaskImageOptions): Promise<TaskImage> {
  const value = ref.trim();
  if (/^data:/i.test(value)) return decodeDataUrl(value, opts.maxBytes);
  if (/^https?:\/\//i.test(value)) return download([value], opts);
  if (CLOUD_URI.test(value)) {
    // Label Studio presigns its cloud storage objects for a task and redirects to them.
    if (opts.taskId === undefined) throw new TaskImageError('unsupported_url', `${value.split(':')[0]}: URI in a task without an id`);
    const fileuri = btoa(String.fromCharCode(...new TextEncoder().encode(value))).replace(/\+/g, '-').replace(/\//g, '_');
    return download([lsUrl(opts, `/tasks/${encodeURIComponent(String(opts.taskId))}/presign/?fileuri=${fileuri}`)], opts, true);
  }
  // io.py: "upload/..." and "/upload/..." are uploads under /data/upload/.
  let path = /^\/?upload\//i.test(value) ? `/data/${value.replace(/^\//, '')}` : value;
  if (/^(data|storage-data)\//i.test(path)) path = `/${path}`;
  if (!path.startsWith('/')) throw new TaskImageError('unsupported_url', `'${clip(value)}' is not an http(s), data:, Label Studio or cloud storage URL`);
  const candidates = [lsUrl(opts, path)];
  // Uploads live on disk or in the default cloud storage; Label Studio serves the latter only
  // through its storage proxy (io.py tries the proxy and the legacy path).
  const upload = /^\/data\/(upload\/[^?#]+)$/.exec(path);
  if (upload) candidates.push(lsUrl(opts, `/storage-data/uploaded/?filepath=${upload[1]}`));
  return download(candidates, opts, true);
}

function lsUrl(opts: TaskImageOptions, path: string): string {
  if (!opts.labelStudioUrl) throw new TaskImageError('no_label_studio_url', `'${clip(path)}' is a Label Studio path, but no Label Studio URL is configured (LABEL_STUDIO_URL)`);
  if (!opts.apiKey) throw new TaskImageError('no_label_studio_token', `'${clip(path)}' needs Label Studio's API token (LABEL_STUDIO_API_KEY)`);
  return opts.labelStudioUrl.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
}

/** Tries each URL in turn; a 4xx moves on to the next, anything else ends the attempt. */
async function download(urls: string[], opts: TaskImageOptions, labelStudioPath = false): Promise<TaskImage> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let last: TaskImageError | null = null;
  for (const url of urls) {
    try {
      return await fetchCapped(url, opts, signal);
    } catch (err) {
      const clientError = err instanceof TaskImageError && err.status !== undefined && err.status >= 400 && err.status < 500;
      if (!clientError || !labelStudioPath) throw err;
      last = err;
    }
  }
  throw last!;
}

async function fetchCapped(first: string, opts: TaskImageOptions, signal: AbortSignal): Promise<TaskImage> {
  const lsOrigin = opts.labelStudioUrl ? originOf(opts.labelStudioUrl) : null;
  const authorize = opts.authorize ?? labelStudioAuthorizer(opts);
  let url = first;
  let requested = false;
  try {
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const target = new URL(url);
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new TaskImageError('unsupported_url', `redirected to a ${target.protocol} URL`, { requested });
      try {
        checkFetchUrl(target, opts.policy);
      } catch (err) {
        if (!(err instanceof FetchRefused)) throw err;
        throw new TaskImageError('fetch_refused', `${hop ? `GET ${redact(first)} redirected to ${redact(url)}, refused` : `GET ${redact(url)} refused`}: ${err.message}`, { requested });
      }
      // The token goes to Label Studio only, never to a host a redirect points at (e.g. a presigned S3 URL).
      const headers: Record<string, string> = {};
      if (opts.apiKey && lsOrigin && target.origin === lsOrigin) headers.authorization = await authorize();
      requested = true;
      const res = await opts.fetch(url, { headers, signal, redirect: 'manual' });
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        url = new URL(location, url).href;
        continue;
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new TaskImageError('fetch_failed', `GET ${redact(url)} → ${res.status}`, { status: res.status });
      }
      return { bytes: await readCapped(res, opts.maxBytes, url), contentType: res.headers.get('content-type') ?? undefined };
    }
    throw new TaskImageError('fetch_failed', `GET ${redact(first)}: more than ${MAX_REDIRECTS} redirects`, { requested });
  } catch (err) {
    if (err instanceof TaskImageError) throw err;
    if (signal.aborted) throw new TaskImageError('fetch_timeout', `GET ${redact(url)}: no complete answer within ${opts.timeoutMs} ms`, { cause: err, requested });
    const cause = (err as Error & { cause?: Error }).cause?.message;
    throw new TaskImageError('fetch_failed', `GET ${redact(url)}: ${(err as Error).message}${cause ? ` (${cause})` : ''}`, { cause: err, requested });
  }
}

async function readCapped(res: Response, maxBytes: number, url: string): Promise<Uint8Array> {
  const tooLarge = () => new TaskImageError('image_too_large', `${redact(url)} is over the ${maxBytes} byte limit`, { requested: true });
  if (Number(res.headers.get('content-length')) > maxBytes) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.byteLength; }
  return out;
}

/** `data:[<type>][;base64],<data>` (RFC 2397), decoded in-process. */
export function decodeDataUrl(url: string, maxBytes: number): TaskImage {
  const comma = url.indexOf(',');
  if (comma < 0) throw new TaskImageError('bad_data_url', 'data: URL without a comma');
  const meta = url.slice(5, comma).split(';').map((s) => s.trim());
  const body = url.slice(comma + 1);
  const isBase64 = meta.slice(1).some((p) => p.toLowerCase() === 'base64');
  const contentType = meta[0] || undefined;
  let bytes: Uint8Array;
  if (isBase64) {
    const b64 = body.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/');
    if (Math.floor(b64.length * 3 / 4) - 2 > maxBytes) throw new TaskImageError('image_too_large', `data: URL image is over the ${maxBytes} byte limit`);
    let bin: string;
    try {
      bin = atob(b64);
    } catch (err) {
      throw new TaskImageError('bad_data_url', 'data: URL is not valid base64', { cause: err });
    }
    bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  } else {
    // Percent-encoded bytes; anything else is the UTF-8 of the text.
    const parts: number[] = [];
    const enc = new TextEncoder();
    for (let i = 0; i < body.length; i++) {
      if (body[i] === '%' && /^[0-9a-f]{2}$/i.test(body.slice(i + 1, i + 3))) {
        parts.push(parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        parts.push(...enc.encode(body[i]));
      }
    }
    bytes = Uint8Array.from(parts);
  }
  if (bytes.length > maxBytes) throw new TaskImageError('image_too_large', `data: URL image is over the ${maxBytes} byte limit`);
  return { bytes, contentType };
}

function originOf(url: string): string | null {
  try { return new URL(url).origin; } catch { return null; }
}

/** A URL for messages: no credentials, query or fragment (presigned URLs carry signatures). */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return clip(`${u.origin}${u.pathname}`);
  } catch {
    return clip(url);
  }
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
