import { checkKey, type ObjectInfo, type Store } from '../lib/store.ts';

/** The Store interface over a Workers R2 bucket binding. */
export class R2Store implements Store {
  constructor(private readonly bucket: R2Bucket) {}

  async get(key: string): Promise<Uint8Array | null> {
    const obj = await this.bucket.get(checkKey(key));
    return obj ? new Uint8Array(await obj.arrayBuffer()) : null;
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array | null> {
    if (length === 0) return (await this.head(key)) ? new Uint8Array(0) : null;
    try {
      const obj = await this.bucket.get(checkKey(key), { range: { offset, length } });
      return obj ? new Uint8Array(await obj.arrayBuffer()) : null;
    } catch (err) {
      // R2 rejects a range that starts at or past the end; that is an empty read, as on S3 and files.
      const head = await this.bucket.head(key);
      if (head && offset >= head.size) return new Uint8Array(0);
      throw err;
    }
  }

  async put(key: string, data: Uint8Array | string): Promise<void> {
    // R2 writes are atomic: a reader sees the old object or the whole new one.
    await this.bucket.put(checkKey(key), data);
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const obj = await this.bucket.head(checkKey(key));
    return obj ? { key, size: obj.size } : null;
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.bucket.list({ prefix, cursor });
      for (const o of page.objects) out.push({ key: o.key, size: o.size });
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }
}
