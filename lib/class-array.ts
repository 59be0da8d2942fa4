/**
 * Class indices (predictions, labels, modal labels) are stored one byte each for runs of up
 * to 256 classes and two bytes each (little-endian) above that, up to 65 536 classes. The
 * width is chosen once per run, from its class count, and recorded in the manifest; every
 * reader takes it from there, so one code path serves both.
 */
export type ClassArray = Uint8Array | Uint16Array;
export type ClassBytes = 1 | 2;

export const MAX_CLASSES = 65536;

/** The storage width a run of `numClasses` classes uses. */
export function classBytesFor(numClasses: number): ClassBytes {
  if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > MAX_CLASSES) {
    throw new RangeError(`numClasses: expected an integer in [1, ${MAX_CLASSES}], got ${numClasses}`);
  }
  return numClasses > 256 ? 2 : 1;
}

/** The largest class count an array of this type can hold. */
export function classCapacity(a: ClassArray): number {
  return a instanceof Uint16Array ? 65536 : 256;
}

export function newClassArray(length: number, classBytes: ClassBytes): ClassArray {
  return classBytes === 2 ? new Uint16Array(length) : new Uint8Array(length);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Class indices from a file's bytes. One-byte arrays are the bytes themselves; two-byte arrays
 * are a view when the bytes are aligned (no copy: a 50k × 300 prediction file stays 30 MB),
 * otherwise a copy.
 */
export function classArrayFromBytes(bytes: Uint8Array, classBytes: ClassBytes, what = 'class array'): ClassArray {
  if (classBytes === 1) return bytes;
  if (bytes.byteLength % 2 !== 0) throw new RangeError(`${what}: expected an even number of bytes for 2-byte class indices, got ${bytes.byteLength}`);
  const n = bytes.byteLength / 2;
  const out = bytes.byteOffset % 2 === 0 && LITTLE_ENDIAN
    ? new Uint16Array(bytes.buffer, bytes.byteOffset, n)
    : new Uint16Array(n);
  if (out.buffer !== bytes.buffer) for (let i = 0; i < n; i++) out[i] = bytes[2 * i] | (bytes[2 * i + 1] << 8);
  return out;
}

/** The bytes to store for class indices (little-endian for two-byte arrays). */
export function classArrayToBytes(a: ClassArray): Uint8Array {
  if (a instanceof Uint8Array) return a;
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.length * 2);
  for (let i = 0; i < a.length; i++) { out[2 * i] = a[i] & 0xff; out[2 * i + 1] = a[i] >> 8; }
  return out;
}
