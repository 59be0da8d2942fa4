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
