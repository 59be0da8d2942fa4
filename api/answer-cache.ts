import { LRUCache } from 'lru-cache';
import type { LoadedRun } from './runs.ts';

const key = (run: LoadedRun, index: number, corruption: string | undefined) => `${run.etag}${index}/${corruption ?? ''}`;

/**
 * Dataset-image answers as the JSON text served, kept within a memory bound (least recently used
 * go first). A run never changes once written, so an answer is a pure function of the run (its
 * manifest hash: a run id reused for other data gets other keys), the image, the corrupted test
 * set and the app's settings (links' base URL): one cache per app. Building and serializing an
 * answer took half of a lookup's server time; a cached one is sent as it is.
 */
export class AnswerCache {
  private readonly cache: LRUCache<string, string>;

  constructor(maxBytes: number) {
    this.cache = new LRUCache({
      maxSize: maxBytes,
      // V8 keeps a string of Latin-1 characters in one byte each, any other in two.
      sizeCalculation: (json, key) => (/[^\x00-\xff]/.test(json) ? 2 : 1) * json.length + key.length + 64,
    });
  }

  /** The answer's JSON if kept. Synchronous, so a hit costs no promise. */
  get(run: LoadedRun, index: number, corruption: string | undefined): string | undefined {
    return this.cache.get(key(run, index, corruption));
  }

  /** Keeps an answer that was built (a refusal never is), unless it alone is over the bound. */
  set(run: LoadedRun, index: number, corruption: string | undefined, json: string): void {
    this.cache.set(key(run, index, corruption), json);
  }

  /** Bytes held, as counted against the bound. */
  get bytes(): number {
    return this.cache.calculatedSize;
  }
}
