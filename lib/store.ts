/**
 * Where runs live. Keys are '/'-separated paths ("<runId>/manifest.json", "latest").
 * Implementations: a local directory (node/store-fs.ts, the embedded default), any
 * S3-compatible bucket (node/store-s3.ts) and a Workers R2 binding (api/r2-store.ts).
 * A missing key is `null`, never an exception.
 */
export interface ObjectInfo {
  key: string;
  size: number;
  /** SHA-256 (hex) of the content when the store keeps it beside the object (S3 metadata). */
  sha256?: string;
}

export interface Store {
  get(key: string): Promise<Uint8Array | null>;
  /** Writes all of `data` or nothing: a reader never sees a half-written object. */
  put(key: string, data: Uint8Array | string): Promise<void>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Every key under `prefix` (recursively), sorted. */
  list(prefix: string): Promise<ObjectInfo[]>;
}

/** A store that can also remove objects: what retention needs, and the API never does. */
export interface DeletableStore extends Store {
  /** Removes the keys; a key that is already gone is not an error. */
  delete(keys: string[]): Promise<void>;
}

export function isDeletable(store: Store): store is DeletableStore {
  return typeof (store as Partial<DeletableStore>).delete === 'function';
}

/** Rejects keys that could escape the store's root or are not plain relative paths. */
export function checkKey(key: string): string {
  if (!key || key.length > 1024 || key.startsWith('/') || key.includes('\\') || key.includes('\0') ||
      key.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`invalid store key '${key}'`);
  }
  return key;
}

export async function getText(store: Store, key: string): Promise<string | null> {
  const bytes = await store.get(key);
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

/** The run id that the `latest` pointer names, or null when no run was finished yet. */
export async function latestRunId(store: Store): Promise<string | null> {
  const text = await getText(store, LATEST_KEY);
  return text === null ? null : text.trim() || null;
}

export const LATEST_KEY = 'latest';
