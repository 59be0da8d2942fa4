/** The hand-written JPEG round trip against a real codec: jpeg-js's encoder and decoder. */
import { decode, encode } from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { jpegRoundTrip, quantTable } from './digital.ts';
import type { ImageU8 } from './image.ts';
import { meanAbsDiff, sampleImage } from './testing.ts';

/** Through jpeg-js at `quality` (always 3 components, 4:4:4), back to the image's channels. */
function viaJpegJs(image: ImageU8, quality: number): ImageU8 {
  const { width: w, height: h, channels: ch } = image;
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    for (let k = 0; k < 3; k++) rgba[4 * i + k] = image.data[i * ch + (ch === 1 ? 0 : k)];
    rgba[4 * i + 3] = 255;
  }
  const jpeg = encode({ data: rgba, width: w, height: h }, quality);
  const back = decode(jpeg.data, { useTArray: true });
  const data = new Uint8Array(w * h * ch);
  for (let i = 0; i < w * h; i++) for (let k = 0; k < ch; k++) data[i * ch + k] = back.data[4 * i + k];
  return { data, width: w, height: h, channels: ch };
}

function luma(image: ImageU8): ImageU8 {
  const n = image.width * image.height;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.round(0.299 * image.data[3 * i] + 0.587 * image.data[3 * i + 1] + 0.114 * image.data[3 * i + 2]);
  return { data, width: image.width, height: image.height, channels: 1 };
}

describe('JPEG round trip', () => {
  it('uses libjpeg quality scaling', () => {
    expect(quantTable([16, 11, 99], 50)).toEqual(Float64Array.from([16, 11, 99]));
    expect(quantTable([16, 11, 99], 80)).toEqual(Float64Array.from([6, 4, 40])); // scale 40: ⌊(16·40 + 50)/100⌋ = 6
    expect(quantTable([16, 11, 99], 10)).toEqual(Float64Array.from([80, 55, 255])); // scale 500, capped at 255
  });

  for (const quality of [80, 58, 40]) {
    it(`grayscale at quality ${quality} matches jpeg-js to within a level on average`, () => {
      for (const seed of [1, 2, 3]) {
        for (const [w, h] of [[28, 28], [19, 13]]) {
          const image = sampleImage(seed, w, h, 1);
          const ours = jpegRoundTrip(image, quality);
          const theirs = viaJpegJs(image, quality);
          expect(meanAbsDiff(ours, theirs)).toBeLessThan(1);
          // …and both differ from the original by much more than from each other.
          expect(meanAbsDiff(theirs, image)).toBeGreaterThan(2 * meanAbsDiff(ours, theirs));
        }
      }
    });

    it(`colour at quality ${quality}: luma matches jpeg-js (chroma is 4:2:0 here, 4:4:4 there)`, () => {
      for (const seed of [1, 2, 3]) {
        const image = sampleImage(seed, 32, 32, 3);
        const ours = jpegRoundTrip(image, quality);
        const theirs = viaJpegJs(image, quality);
        expect(meanAbsDiff(luma(ours), luma(theirs))).toBeLessThan(1.5);
        expect(meanAbsDiff(ours, theirs)).toBeLessThan(6);
      }
    });
  }
});
