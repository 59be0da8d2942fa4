import { createHash } from 'node:crypto';
import {
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { checkKey, type DeletableStore, type ObjectInfo } from '../lib/store.ts';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket, e.g. 'pie-lens/runs' (default: the bucket's root). */
  prefix?: string;
  /**
   * An S3-compatible endpoint: `https://<account>.r2.cloudflarestorage.com` for R2, MinIO's URL…
   * Default: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, which the SDK reads itself, else AWS S3.
   */
  endpoint?: string;
  /** Default: the SDK's (AWS_REGION, the profile's region); 'auto' with a custom endpoint (R2's). */
  region?: string;
  /** Path-style URLs (`endpoint/bucket/key`), which MinIO and most local servers need. Default: on with a custom endpoint. */
  forcePathStyle?: boolean;
  /** Objects at least this large go up as a multipart upload (@aws-sdk/lib-storage). Default 16 MiB, min 5 MiB. */
  multipartThreshold?: number;
  /** Part size of multipart uploads, ≥ 5 MiB. Default 8 MiB. */
  partSize?: number;
  /** Parts of one object in flight at once. Default 4. */
  partConcurrency?: number;
  /** Attempts per request, with the SDK's standard retry strategy (backoff, jitter, retry quota). Default 5. */
  maxAttempts?: number;
  /** A ready client (its settings win over the ones above). */
  client?: S3Client;
}

const MiB = 1024 * 1024;

/**
 * The Store interface over an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO…), with
 * @aws-sdk/client-s3. Credentials only ever come from the SDK's default provider chain
 * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, a container or instance role):
 * never from flags or files of this project, and nothing here prints them.
 * Every object is written with its SHA-256 as the metadata field `sha256`, which `head` returns,
 * so a publish can tell an object already present from one to upload without downloading it.
 */
export class S3Store implements DeletableStore {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly partConcurrency: number;

  constructor(opts: S3StoreOptions) {
    if (!opts.bucket) throw new Error('S3 store: no bucket given');
    this.bucket = opts.bucket;
    this.prefix = (opts.prefix ?? '').replace(/^\/+|\/+$/g, '');
    if (this.prefix) checkKey(this.prefix);
    this.partSize = Math.max(5 * MiB, opts.partSize ?? 8 * MiB);
    this.multipartThreshold = Math.max(5 * MiB, opts.multipartThreshold ?? 16 * MiB);
    this.partConcurrency = opts.partConcurrency ?? 4;
    const customEndpoint = opts.endpoint ?? (process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined);
    const regionFromEnv = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
    this.client = opts.client ?? new S3Client({
      endpoint: opts.endpoint,
      region: opts.region ?? (customEndpoint && !regionFromEnv ? 'auto' : undefined),
      forcePathStyle: opts.forcePathStyle ?? !!customEndpoint,
      maxAttempts: opts.maxAttempts ?? 5,
      followRegionRedirects: !customEndpoint,
      // S3-compatible servers differ in which of the SDK's newer default checksums they accept;
      // on them, send checksums only where the API requires one (SHA-256 is checked by publish).
      ...(customEndpoint && !process.env.AWS_REQUEST_CHECKSUM_CALCULATION ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const } : {}),
      ...(customEndpoint && !process.env.AWS_RESPONSE_CHECKSUM_VALIDATION ? { responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
    });
  }

  /** `s3://bucket/prefix`, for messages (endpoints and credentials stay out of them). */
  get url(): string {
    return `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
  }

  private objectKey(key: string): string {
    checkKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return await out.Body!.transformToByteArray();
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  /** One PUT (atomic on S3) below the multipart threshold; above it, parts that S3 assembles only on completion. */
  async put(key: string, data: Uint8Array | string): Promise<void> {
    const body = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const Key = this.objectKey(key);
    const Metadata = { sha256: createHash('sha256').update(body).digest('hex') };
    const ContentType = contentType(key);
    if (body.length >= this.multipartThreshold) {
      await new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key, Body: body, Metadata, ContentType },
        partSize: this.partSize,
        queueSize: this.partConcurrency,
        leavePartsOnError: false,
      }).done();
      return;
    }
    await this.client.send(new PutObjectCommand({
      Bucket: this.bucket, Key, Body: body, ContentLength: body.length, Metadata, ContentType,
      // The server checks the body against it (S3, R2, MinIO): no silent corruption in transit.
      ContentMD5: createHash('md5').update(body).digest('base64'),
    }));
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      const sha256 = out.Metadata?.sha256;
      return { key, size: out.ContentLength ?? 0, ...(sha256 ? { sha256 } : {}) };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const root = this.prefix ? `${this.prefix}/` : '';
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: root + prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        if (o.Key && o.Key.startsWith(root)) out.push({ key: o.Key.slice(root.length), size: o.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  /** One DeleteObject per key, eight at a time: plain requests that every S3-compatible server takes. */
  async delete(keys: string[]): Promise<void> {
    const queue = [...keys];
    const next = async (): Promise<void> => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, queue.length) }, next));
  }
}

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || (e?.$metadata?.httpStatusCode === 404 && e?.name !== 'NoSuchBucket');
}

function contentType(key: string): string {
  if (key.endsWith('.json')) return 'application/json';
  if (key === 'latest' || key.endsWith('/latest')) return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}

/** `s3://bucket/some/prefix` → its bucket and prefix. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new Error(`'${url}' is not an s3://bucket/prefix URL`);
  return { bucket: m[1], prefix: m[2].replace(/\/+$/, '') };
}
