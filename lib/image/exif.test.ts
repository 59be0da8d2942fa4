import { encode as encodeJpeg } from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { decodeImage } from './decode.ts';
import { applyOrientation, exifOrientation } from './exif.ts';
import { toModelInput } from './preprocess.ts';
import { exifPayload, withExif } from './testing.ts';

describe('exifOrientation', () => {
  it('reads the tag in either byte order, and falls back to 1 on anything malformed', () => {
    expect(exifOrientation(exifPayload(6))).toBe(6);
    expect(exifOrientation(exifPayload(8, false))).toBe(8);
    expect(exifOrientation(exifPayload(9))).toBe(1);
    expect(exifOrientation(exifPayload(6).subarray(0, 20))).toBe(1);
    expect(exifOrientation(new TextEncoder().encode('http://ns.adobe.com/xap/1.0/'))).toBe(1);
  });
});

describe('applyOrientation', () => {
  it('turns a 3×2 plane as PIL’s exif_transpose does, for all eight values', () => {
    // a b c / d e f = 1 2 3 / 4 5 6
    const plane = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const expected: Record<number, [number, number, number[]]> = {
      1: [3, 2, [1, 2, 3, 4, 5, 6]],
      2: [3, 2, [3, 2, 1, 6, 5, 4]], // mirror left–right
      3: [3, 2, [6, 5, 4, 3, 2, 1]], // rotate 180°
      4: [3, 2, [4, 5, 6, 1, 2, 3]], // mirror top–bottom
      5: [2, 3, [1, 4, 2, 5, 3, 6]], // transpose
      6: [2, 3, [4, 1, 5, 2, 6, 3]], // rotate 90° clockwise
      7: [2, 3, [6, 3, 5, 2, 4, 1]], // transverse
      8: [2, 3, [3, 6, 2, 5, 1, 4]], // rotate 90° anticlockwise
    };
    for (const [o, [w, h, data]] of Object.entries(expected)) {
      const out = applyOrientation(plane, 3, 2, Number(o));
      expect([out.width, out.height, Array.from(out.gray)], `orientation ${o}`).toEqual([w, h, data]);
    }
  });
});

describe('decodeImage: JPEG with EXIF orientation', () => {
  it('turns a phone photo upright, and says so in the preprocessing steps', () => {
    // 32 wide × 16 high, bright block in the top-left 8×8 corner.
    const rgba = new Uint8Array(32 * 16 * 4);
    for (let y = 0; y < 16; y++) for (let x = 0; x < 32; x++) rgba.fill(x < 8 && y < 8 ? 255 : 0, 4 * (y * 32 + x), 4 * (y * 32 + x) + 3);
    for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
    const jpeg = new Uint8Array(encodeJpeg({ width: 32, height: 16, data: rgba }, 95).data);

    const turned = decodeImage(withExif(jpeg, 6)); // rotate 90° clockwise: top-left goes top-right
    expect([turned.width, turned.height, turned.orientation]).toEqual([16, 32, 6]);
    expect(turned.gray[4 * 16 + 12]).toBeGreaterThan(240);
    expect(turned.gray[4 * 16 + 3]).toBeLessThan(15);
    expect(toModelInput(turned).steps).toMatchObject({ exifOrientation: 6, source: { width: 16, height: 32 } });

    expect(decodeImage(jpeg).orientation).toBe(1);
  });
});
