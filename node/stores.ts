import { resolve } from 'node:path';
import type { Store } from '../lib/store.ts';
import { FsStore } from './store-fs.ts';

/** A store setting that is missing or wrong (the CLI prints the message, without a stack trace). */
export class StoreSettingsError extends Error {}

/** How to reach an S3-compatible service; credentials are not here: the AWS SDK finds them. */
export interface S3Settings {
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
}

/** Flags first, then PIE_S3_ENDPOINT / PIE_S3_FORCE_PATH_STYLE (AWS_* variables are the SDK's own). */
export function s3Settings(flags: { endpoint?: string; region?: string; pathStyle?: boolean }, env = process.env): S3Settings {
  const pathStyle = env.PIE_S3_FORCE_PATH_STYLE;
  return {
    endpoint: flags.endpoint ?? (env.PIE_S3_ENDPOINT || undefined),
    region: flags.region,
    forcePathStyle: flags.pathStyle ?? (pathStyle === undefined || pathStyle === '' ? undefined : pathStyle === 'true' || pathStyle === '1'),
  };
}

/**
 * A store from where it is: `s3://bucket/prefix` → S3Store (the AWS SDK is loaded only then),
 * anything else → a local folder.
 */
export async function openStore(where: string, s3: S3Settings = {}): Promise<Store> {
  if (where.startsWith('s3://')) {
    const { S3Store, parseS3Url } = await import('./store-s3.ts');
    return new S3Store({ ...parseS3Url(where), ...s3 });
  }
  return new FsStore(resolve(where));
}

/** The bucket a run is published to: --bucket / PIE_S3_BUCKET and --prefix / PIE_S3_PREFIX. */
export async function openBucket(flags: { bucket?: string; prefix?: string }, s3: S3Settings, env = process.env): Promise<Store> {
  const bucket = flags.bucket ?? env.PIE_S3_BUCKET;
  if (!bucket) throw new StoreSettingsError('no bucket to publish to: pass --bucket <name> or set PIE_S3_BUCKET');
  const { S3Store } = await import('./store-s3.ts');
  return new S3Store({ bucket, prefix: flags.prefix ?? env.PIE_S3_PREFIX ?? '', ...s3 });
}

/** Where a store is, for messages: a folder or s3://bucket/prefix (never an endpoint's credentials). */
export function describeStore(store: Store): string {
  if (store instanceof FsStore) return store.root;
  const url = (store as { url?: unknown }).url;
  return typeof url === 'string' ? url : 'the store';
}
