/** Folder headers report the size a file decodes to: large JPEGs and PNGs decode at 1/8 scale. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { pngOf } from '../lib/image/testing.ts';
import { decodeFiles, probeImage } from './decode-images.ts';

describe('probeImage', () => {
  it('gives the decoded size: 1/8 for a large JPEG or PNG, full for a small one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pie-probe-'));
    const big = join(dir, 'big.jpg'), small = join(dir, 'small.jpg'), png = join(dir, 'big.png');
    writeFileSync(big, encodeJpeg({ width: 1600, height: 1200, data: new Uint8Array(1600 * 1200 * 4).fill(200) }, 80).data);
    writeFileSync(small, encodeJpeg({ width: 60, height: 40, data: new Uint8Array(60 * 40 * 4).fill(200) }, 80).data);
    writeFileSync(png, pngOf({ width: 2000, height: 1500, data: new Uint8Array(2000 * 1500 * 3).fill(90), channels: 3, depth: 8 }));
    expect(probeImage(big)).toEqual({ width: 200, height: 150, color: true });
    expect(probeImage(small)).toEqual({ width: 60, height: 40, color: true });
    expect(probeImage(png)).toEqual({ width: 250, height: 188, color: true });
    // And the decode agrees: the big JPEG at its probed size needs no resampling.
    const out = new Uint8Array(200 * 150 * 3);
    const r = decodeFiles({ files: [big], first: 0, out, height: 150, width: 200, channels: 3 });
    expect(r.failures).toEqual([]);
    expect(Math.abs(out[0] - 200)).toBeLessThanOrEqual(2);
  });
});
