import { encode as encodePngLib } from 'fast-png';

/**
 * Encodes [height × width × channels] uint8 (1: luminance, 3: RGB interleaved) as an 8-bit
 * greyscale or RGB PNG. `scale` (integer 1..64, default 1) enlarges it nearest-neighbour for
 * display, each pixel a scale × scale block: 10 turns 28×28 into 280×280 without blurring.
 */
export function encodePng(pixels: Uint8Array, width: number, height: number, scale = 1, channels: 1 | 3 = 1): Uint8Array {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`PNG size must be positive integers, got ${width}×${height}`);
  }
  if (channels !== 1 && channels !== 3) throw new RangeError(`PNG channels must be 1 or 3, got ${String(channels)}`);
  if (pixels.length !== width * height * channels) {
    const what = channels === 1 ? 'pixels' : 'RGB samples';
    throw new RangeError(`a ${width}×${height} PNG needs ${width * height * channels} ${what}, got ${pixels.length}`);
  }
  if (!(Number.isInteger(scale) && scale >= 1 && scale <= 64)) throw new RangeError(`scale must be an integer 1..64, got ${scale}`);
  const data = scale === 1 ? pixels : enlarge(pixels, width, height, scale, channels);
  return encodePngLib({ width: width * scale, height: height * scale, data, channels, depth: 8 });
}

function enlarge(pixels: Uint8Array, width: number, height: number, scale: number, channels: number): Uint8Array {
  const w = width * scale * channels;
  const out = new Uint8Array(w * height * scale);
  for (let y = 0; y < height; y++) {
    const row = out.subarray(y * scale * w, (y * scale + 1) * w);
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * channels;
      if (channels === 1) row.fill(pixels[at], x * scale, (x + 1) * scale);
      else for (let k = 0; k < scale; k++) row.set(pixels.subarray(at, at + channels), (x * scale + k) * channels);
    }
    for (let k = 1; k < scale; k++) out.copyWithin((y * scale + k) * w, y * scale * w, (y * scale + 1) * w);
  }
  return out;
}
