import { encode as encodePngLib } from 'fast-png';

/**
 * Encodes [height × width] uint8 luminance as an 8-bit greyscale PNG. `scale` (integer 1..64,
 * default 1) enlarges it nearest-neighbour for display, each pixel a scale × scale block:
 * 10 turns 28×28 into 280×280 without blurring.
 */
export function encodePng(gray: Uint8Array, width: number, height: number, scale = 1): Uint8Array {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`PNG size must be positive integers, got ${width}×${height}`);
  }
  if (gray.length !== width * height) throw new RangeError(`a ${width}×${height} PNG needs ${width * height} pixels, got ${gray.length}`);
  if (!(Number.isInteger(scale) && scale >= 1 && scale <= 64)) throw new RangeError(`scale must be an integer 1..64, got ${scale}`);
  const data = scale === 1 ? gray : enlarge(gray, width, height, scale);
  return encodePngLib({ width: width * scale, height: height * scale, data, channels: 1, depth: 8 });
}

function enlarge(gray: Uint8Array, width: number, height: number, scale: number): Uint8Array {
  const w = width * scale;
  const out = new Uint8Array(w * height * scale);
  for (let y = 0; y < height; y++) {
    const row = out.subarray(y * scale * w, (y * scale + 1) * w);
    for (let x = 0; x < width; x++) row.fill(gray[y * width + x], x * scale, (x + 1) * scale);
    for (let k = 1; k < scale; k++) out.copyWithin((y * scale + k) * w, y * scale * w, (y * scale + 1) * w);
  }
  return out;
}
