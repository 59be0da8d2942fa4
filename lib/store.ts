/**
 * Where runs live. Keys are '/'-separated paths ("<runId>/manifest.json", "latest").
 * Implementations: a local directory (trainer/store-fs.ts, the embedded default); S3 and R2
 * come with the publishing issue. A missing key is `null`, never an exception.
 */
export interface ObjectInfo {
  key: string;
  size: number;
}

export interface Store {
  get(key: string): Promise<Uint8Array | null>;
  /** Writes all of `data` or nothing: a reader never sees a half-written object. */
  put(key: string, data: Uint8Array | string): Promise<void>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Every key under `prefix` (recursively), sorted. */
  list(prefix: string): Promise<ObjectInfo[]>;
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
