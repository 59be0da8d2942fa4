/** SHA-256 as lowercase hex, with Web Crypto (present in Node ≥ 20, Workers and browsers). */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * 32-bit FNV-1a over a string's UTF-16 code units, for where a digest must be synchronous and
 * cheap rather than cryptographic: seeds, ETags, asset versions. `basis` defaults to FNV's
 * offset basis; seedFor mixes its base seed into it. Written by hand: it is six lines, and
 * crypto.subtle is asynchronous.
 */
export function fnv1a32(text: string, basis = 0x811c9dc5): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** SHA-256 as 32 raw bytes. */
export async function sha256Bytes(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
}

/** SHA-256 of each of the n equal-sized images in `images`, [n × 32]: what lets a reader check one image read by range. */
export async function imageHashes(images: Uint8Array, n: number): Promise<Uint8Array> {
  const size = images.length / n;
  const out = new Uint8Array(n * 32);
  for (let i = 0; i < n; i++) out.set(await sha256Bytes(images.subarray(i * size, (i + 1) * size)), i * 32);
  return out;
}
