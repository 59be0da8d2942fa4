import { describe, expect, it } from 'vitest';
import { fnv1a32, sha256Hex } from './hash.ts';
import { seedFor } from './random.ts';

describe('hashes', () => {
  it('fnv1a32 matches the published FNV-1a 32-bit test vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('seedFor keeps the seeds runs were trained with (values from before it used fnv1a32)', () => {
    expect([seedFor(1, 'p90', 3), seedFor(0, 'dense', 0), seedFor(42, 'p99.5', 7)]).toEqual([1416979231, 2818709447, 4192599136]);
  });

  it('sha256Hex matches the SHA-256 of "abc"', async () => {
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
