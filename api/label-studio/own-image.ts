/**
 * Task images that are this API's own dataset images (`/v1/runs/<run>/images/<index>/image.png`,
 * as the study's task list and the web page write them). They are answered from the run in
 * process rather than downloaded: a download would need an API key once PIE_API_KEYS is set, and
 * would only fetch back bytes the run already holds.
 */

const OWN_PATH = /^\/v1\/runs\/([A-Za-z0-9][A-Za-z0-9._-]{0,99})\/images\/(\d{1,9})\/image\.png$/;

export interface OwnImageRef { run: string; index: number }

/**
 * The run and image index a task's image reference names, if it is one of this API's image URLs:
 * a bare path, or an absolute URL on one of `origins` (the origin Label Studio called, and any
 * public URL the API is known by). Query strings (`?scale=8`) do not matter: the image is the
 * dataset image either way.
 */
export function ownImageRef(ref: string, origins: readonly string[]): OwnImageRef | null {
  let url: URL;
  try {
    url = new URL(ref.trim(), 'relative:/');
  } catch {
    return null;
  }
  if (url.protocol !== 'relative:' && !origins.includes(url.origin)) return null;
  const m = OWN_PATH.exec(url.pathname);
  return m ? { run: decodeURIComponent(m[1]), index: Number(m[2]) } : null;
}
