import { decode as decodePngLib } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { encodePng } from './encode.ts';
import { randomGray } from './testing.ts';

describe('encodePng', () => {
  it('writes an 8-bit greyscale PNG of the pixels', () => {
    const g = randomGray(6 * 4, 1);
    const png = decodePngLib(encodePng(g, 6, 4));
    expect(png).toMatchObject({ width: 6, height: 4, channels: 1, depth: 8 });
    expect(Uint8Array.from(png.data)).toEqual(g);
  });

  it('enlarges nearest-neighbour: 28×28 at scale 10 is 280×280 of 10×10 blocks', () => {
    const g = randomGray(784, 2);
    const png = decodePngLib(encodePng(g, 28, 28, 10));
    expect([png.width, png.height]).toEqual([280, 280]);
    for (let y = 0; y < 280; y++) {
      for (let x = 0; x < 280; x++) {
        if (png.data[y * 280 + x] !== g[Math.floor(y / 10) * 28 + Math.floor(x / 10)]) throw new Error(`pixel (${x}, ${y}) differs`);
      }
    }
  });

  it('refuses a size that does not match the pixels, and a bad scale', () => {
    expect(() => encodePng(new Uint8Array(10), 3, 3)).toThrow('a 3×3 PNG needs 9 pixels, got 10');
    expect(() => encodePng(new Uint8Array(9), 3, 3, 0)).toThrow(RangeError);
    expect(() => encodePng(new Uint8Array(9), 3, 3, 1.5)).toThrow(RangeError);
  });
});
