/**
 * Same seed, same bytes, in Node and in workerd (the Workers runtime, through Miniflare): every
 * corruption at every severity on a grayscale and a colour image, the lib module bundled with
 * esbuild as a Worker would bundle it.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORRUPTIONS, corrupt } from '../lib/corrupt/index.ts';
import { sampleImage } from '../lib/corrupt/testing.ts';

const root = join(import.meta.dirname, '..');

/** Worker entry: for each shape and (name, severity), the SHA-256 of the corrupted bytes. */
const ENTRY = `
import { CORRUPTIONS, corrupt } from './lib/corrupt/index.ts';
import { sampleImage } from './lib/corrupt/testing.ts';
const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
export default {
  async fetch() {
    const out = {};
    for (const [w, h, ch] of [[28, 28, 1], [32, 32, 3]]) {
      const image = sampleImage(11, w, h, ch);
      for (const c of CORRUPTIONS) for (let s = 1; s <= c.severities; s++) {
        out[c.name + '-' + s + '@' + ch] = hex(await crypto.subtle.digest('SHA-256', corrupt(image, c.name, s, 2024).data));
      }
    }
    return Response.json(out);
  },
};`;

let mf: Miniflare;

beforeAll(async () => {
  const bundle = await build({
    stdin: { contents: ENTRY, resolveDir: root, loader: 'js' },
    bundle: true, format: 'esm', platform: 'neutral', write: false, logLevel: 'silent',
  });
  mf = new Miniflare({ modules: true, script: bundle.outputFiles[0].text, compatibilityDate: '2025-01-01' });
}, 120_000);

afterAll(async () => {
  await mf?.dispose();
});

describe('corruptions in workerd', () => {
  it('give the same bytes as in Node for every corruption and severity', async () => {
    const res = await mf.dispatchFetch('http://corrupt.test/');
    const inWorkerd = (await res.json()) as Record<string, string>;
    const inNode: Record<string, string> = {};
    for (const [w, h, ch] of [[28, 28, 1], [32, 32, 3]] as const) {
      const image = sampleImage(11, w, h, ch);
      for (const c of CORRUPTIONS) for (let s = 1; s <= c.severities; s++) {
        inNode[`${c.name}-${s}@${ch}`] = createHash('sha256').update(corrupt(image, c.name, s, 2024).data).digest('hex');
      }
    }
    expect(Object.keys(inWorkerd).length).toBe(Object.keys(inNode).length);
    expect(inWorkerd).toEqual(inNode);
  });
});
