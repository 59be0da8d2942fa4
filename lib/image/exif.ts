/*
 * EXIF orientation. Phone cameras store pixels as the sensor read them and record how to turn
 * them (tag 0x0112, values 1–8); browsers show the turned image, so the person uploading sees it
 * upright. We turn the pixels the same way (as PIL's ImageOps.exif_transpose does), so the model
 * sees what the person saw. A missing or malformed tag means 1, upright; it never fails a decode.
 */

/** Orientation from an APP1 segment's payload ("Exif\0\0" + TIFF), or 1 when absent or malformed. */
export function exifOrientation(app1: Uint8Array): number {
  const ascii = String.fromCharCode(...app1.subarray(0, 6));
  if (ascii !== 'Exif\0\0' || app1.length < 14) return 1;
  const tiff = app1.subarray(6);
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return 1;
  const u16 = (at: number) => (little ? tiff[at] | (tiff[at + 1] << 8) : (tiff[at] << 8) | tiff[at + 1]);
  const u32 = (at: number) => (little ? u16(at) + u16(at + 2) * 65536 : u16(at) * 65536 + u16(at + 2));
  if (u16(2) !== 42) return 1;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return 1;
  const count = u16(ifd);
  for (let k = 0; k < count; k++) {
    const entry = ifd + 2 + 12 * k;
    if (entry + 12 > tiff.length) return 1;
    if (u16(entry) === 0x0112) {
      const value = u16(entry + 2) === 3 ? u16(entry + 8) : 0; // type SHORT, value inline
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}

/**
 * Turns a [height × width × channels] image (channels interleaved) by an EXIF orientation;
 * 5–8 swap width and height.
 */
export function applyOrientation(
  gray: Uint8Array, width: number, height: number, orientation: number, channels = 1,
): { gray: Uint8Array; width: number; height: number } {
  if (orientation <= 1 || orientation > 8) return { gray, width, height };
  const swap = orientation >= 5;
  const w = swap ? height : width;
  const h = swap ? width : height;
  // Output pixel (x, y) shows source index c0 + x·cx + y·cy (source is width × height).
  const W = width, last = (height - 1) * width;
  const [c0, cx, cy] = {
    2: [W - 1, -1, W], // mirror left–right
    3: [last + W - 1, -1, -W], // rotate 180°
    4: [last, 1, -W], // mirror top–bottom
    5: [0, W, 1], // transpose
    6: [last, -W, 1], // rotate 90° clockwise
    7: [last + W - 1, -W, -1], // transverse
    8: [W - 1, W, -1], // rotate 90° anticlockwise
  }[orientation] as [number, number, number];
  const out = new Uint8Array(gray.length);
  if (channels === 1) {
    for (let y = 0, i = 0; y < h; y++) {
      for (let x = 0, src = c0 + y * cy; x < w; x++, i++, src += cx) out[i] = gray[src];
    }
  } else {
    for (let y = 0, i = 0; y < h; y++) {
      for (let x = 0, src = c0 + y * cy; x < w; x++, i += channels, src += cx) {
        for (let k = 0; k < channels; k++) out[i + k] = gray[src * channels + k];
      }
    }
  }
  return { gray: out, width: w, height: h };
}
