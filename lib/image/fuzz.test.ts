import { encode as encodeJpeg } from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.ts';
import { decodeImage } from './decode.ts';
import { ImageError, IMAGE_ERROR_STATUS } from './errors.ts';
import { toModelInput } from './preprocess.ts';
import { JPEG_FIXTURES, fixCrcs, fromBase64, pngChunks, pngOf, randomGray, withExif } from './testing.ts';
import type { ImageLimits } from './types.ts';

const ITERATIONS = 3000;
const TIME_BUDGET_MS = 20_000;

function seeds(): { name: string; bytes: Uint8Array }[] {
  const rgba = randomGray(20 * 17 * 4, 2);
  const shape = new Uint8Array(40 * 40 * 4);
  for (let i = 0; i < 1600; i++) shape.fill((i % 40) > 10 && (i % 40) < 30 ? 200 : 0, 4 * i, 4 * i + 4);
  return [
    { name: 'grey PNG', bytes: pngOf({ width: 28, height: 28, data: randomGray(784, 1), channels: 1, depth: 8 }) },
    { name: 'RGBA PNG', bytes: pngOf({ width: 20, height: 17, data: rgba, channels: 4, depth: 8 }) },
    { name: '16-bit PNG', bytes: pngOf({ width: 9, height: 9, data: Uint16Array.from(randomGray(81, 3), (v) => v * 257), channels: 1, depth: 16 }) },
    { name: '4-bit palette PNG', bytes: pngOf({ width: 11, height: 5, data: randomGray(30, 4).map((v) => v & 0x77), channels: 1, depth: 4, palette: Array.from({ length: 8 }, (_, i) => [i * 30, 0, 255 - i * 30]) }) },
    { name: 'interlaced PNG', bytes: pngOf({ width: 13, height: 10, data: randomGray(130, 5), channels: 1, depth: 8 }, 'Adam7') },
    { name: 'baseline JPEG', bytes: new Uint8Array(encodeJpeg({ width: 40, height: 40, data: shape }, 75).data) },
    { name: 'JPEG with EXIF', bytes: withExif(new Uint8Array(encodeJpeg({ width: 24, height: 16, data: shape.subarray(0, 24 * 16 * 4) }, 60).data), 6) },
    { name: 'progressive JPEG', bytes: fromBase64(JPEG_FIXTURES.progressive) },
    { name: 'grey JPEG', bytes: fromBase64(JPEG_FIXTURES.gray) },
  ];
}

/** One random corruption: byte flips, a cut, an insertion, a deletion, or (PNG) edits with CRCs fixed. */
function mutate(file: Uint8Array, rand: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(rand() * n);
  const out = file.slice();
  switch (pick(6)) {
    case 0: {
      for (let k = 1 + pick(4); k > 0; k--) out[pick(out.length)] = pick(256);
      return out;
    }
    case 1:
      return out.subarray(0, pick(out.length));
    case 2: {
      const at = pick(out.length);
      const extra = Uint8Array.from({ length: 1 + pick(16) }, () => pick(256));
      return Uint8Array.from([...out.subarray(0, at), ...extra, ...out.subarray(at)]);
    }
    case 3: {
      const at = pick(out.length);
      return Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + 1 + pick(16))]);
    }
    default: {
      // Deep corruption: PNG chunk data edited and every CRC made valid again, so decoding gets
      // past the CRC check into inflate, unfilter and conversion; JPEG scan/header bytes edited.
      if (out[0] !== 0x89) {
        for (let k = 1 + pick(3); k > 0; k--) out[2 + pick(out.length - 2)] ^= 1 << pick(8);
        return out;
      }
      const chunks = pngChunks(out).filter((c) => c.length > 0);
      const c = chunks[pick(chunks.length)];
      for (let k = 1 + pick(3); k > 0; k--) out[c.at + 8 + pick(c.length)] = pick(256);
      return fixCrcs(out);
    }
  }
}

describe('decodeImage on corrupted files (seeded fuzzing)', () => {
  it(`every outcome is a valid image or an ImageError, over ${ITERATIONS} mutations`, () => {
    const rand = mulberry32(20251125);
    const files = seeds();
    const codes = new Set(Object.keys(IMAGE_ERROR_STATUS));
    const outcomes: Record<string, number> = { ok: 0 };
    const tight: ImageLimits = { maxWidth: 512, maxHeight: 512, maxDecodeMemory: 32 * 1024 * 1024 };
    const started = performance.now();
    let i = 0;
    for (; i < ITERATIONS && performance.now() - started < TIME_BUDGET_MS; i++) {
      const { name, bytes } = files[i % files.length];
      const mutated = mutate(bytes, rand);
      try {
        const img = decodeImage(mutated, undefined, i % 2 ? tight : undefined);
        expect(img.gray.length).toBe(img.width * img.height);
        expect(toModelInput(img).pixels).toHaveLength(784);
        outcomes.ok++;
      } catch (err) {
        if (!(err instanceof ImageError) || !codes.has(err.code)) {
          throw new Error(`mutation ${i} of the ${name} threw ${String(err)}`, { cause: err });
        }
        outcomes[err.code] = (outcomes[err.code] ?? 0) + 1;
      }
    }
    expect(i).toBeGreaterThanOrEqual(1000);
    expect(outcomes.ok).toBeGreaterThan(50);
    expect(outcomes.undecodable_image).toBeGreaterThan(500);
    expect(outcomes.unsupported_format).toBeGreaterThan(0);
  });
});
