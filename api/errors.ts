import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ImageError } from './image/errors.ts';

/**
 * The API's errors: each has an HTTP status, a stable machine code and a message that names the
 * thing ("run quick-1 has no level p80"). `app.onError` turns them into
 * `{ error: { code, message } }`; anything else becomes a 500 without internals.
 */
export class ApiError extends Error {
  constructor(readonly status: ContentfulStatusCode, readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class NotFound extends ApiError {
  constructor(message: string, options?: { cause?: unknown }) { super(404, 'not_found', message, options); }
}
export class BadInput extends ApiError {
  constructor(message: string, code = 'bad_input', options?: { cause?: unknown }) { super(400, code, message, options); }
}
export class Unauthorized extends ApiError {
  constructor(message = 'missing or invalid API key (send Authorization: Bearer <key>)') { super(401, 'unauthorized', message); }
}
export class PayloadTooLarge extends ApiError {
  constructor(message: string) { super(413, 'payload_too_large', message); }
}
export class UnsupportedMediaType extends ApiError {
  constructor(message: string) { super(415, 'unsupported_media_type', message); }
}
/** Too much work waiting: 503, with Retry-After (app.onError adds it). */
export class Overloaded extends ApiError {
  constructor(message: string, readonly retryAfterSeconds = 1) { super(503, 'overloaded', message); }
}
/** Stored data that fails its manifest check: the server's problem, not the caller's. */
export class CorruptRun extends ApiError {
  constructor(message: string) { super(500, 'corrupt_run', message); }
}

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ImageError) return new ApiError(err.status as ContentfulStatusCode, err.code, err.message, { cause: err });
  if (err instanceof HTTPException) {
    const codes: Record<number, string> = { 401: 'unauthorized', 413: 'payload_too_large', 415: 'unsupported_media_type' };
    const message = err.status === 415
      ? 'unsupported content type: send image/png, image/jpeg, application/octet-stream, multipart/form-data or application/json'
      : err.message || 'bad request';
    return new ApiError(err.status, codes[err.status] ?? 'bad_request', message, { cause: err });
  }
  return new ApiError(500, 'internal', 'internal error', { cause: err });
}
