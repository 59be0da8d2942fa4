/**
 * A worker thread of the upload pool (api/upload-pool.ts): decodes and preprocesses one upload.
 * Errors cross the thread boundary as plain data (structured cloning drops their class).
 */
import { ImageError } from './image/errors.ts';
import { prepareUpload, type Prepared, type PrepareRequest } from './upload.ts';

export type WorkerAnswer = { ok: true; prepared: Prepared } | { ok: false; error: { image: boolean; code: string; message: string } };

export default function prepare(req: PrepareRequest): WorkerAnswer {
  try {
    return { ok: true, prepared: prepareUpload(req) };
  } catch (err) {
    const image = err instanceof ImageError;
    return { ok: false, error: { image, code: image ? err.code : 'internal', message: (err as Error)?.message ?? String(err) } };
  }
}
