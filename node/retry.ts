export interface RetryOptions {
  /** Tries in all, the first included. Default 5. */
  attempts?: number;
  /** Delay cap before the first retry, ms; doubles each time up to `maxDelayMs`. Default 250. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Which errors are worth another try. Default: `isTransient`. */
  retryable?: (err: unknown) => boolean;
  /** Called before each retry (for a log line). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `fn` until it succeeds, retrying transient failures with exponential backoff and full
 * jitter (a random delay in [0, min(max, base·2^n)]), so many clients failing together do not
 * come back together. Permanent errors (access denied, no such bucket…) are thrown at once.
 */
export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const base = opts.baseDelayMs ?? 250;
  const max = opts.maxDelayMs ?? 10_000;
  const retryable = opts.retryable ?? isTransient;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !retryable(err)) throw err;
      const delay = Math.random() * Math.min(max, base * 2 ** (attempt - 1));
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}

const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_SOCKET']);
const TRANSIENT_NAMES = new Set([
  'TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'SlowDown', 'Throttling', 'ThrottlingException',
  'TooManyRequestsException', 'InternalError', 'ServiceUnavailable', 'BadDigest', 'TransientError',
]);

/** Network failures, timeouts, throttling and 5xx answers; an error may also say so itself (`transient: true`). */
export function isTransient(err: unknown): boolean {
  const e = err as { name?: string; code?: string; transient?: boolean; $retryable?: unknown; $metadata?: { httpStatusCode?: number }; cause?: unknown };
  if (!e || typeof e !== 'object') return false;
  if (e.transient || e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return true;
  if ((e.code && TRANSIENT_CODES.has(e.code)) || (e.name && TRANSIENT_NAMES.has(e.name))) return true;
  return e.cause !== undefined && e.cause !== err && isTransient(e.cause);
}
