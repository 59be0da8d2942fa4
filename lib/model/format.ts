import type { Architecture } from './arch.ts';
import { weightedOps } from './arch-layers.ts';
import type { ActivationQuantization, CompactModel, ModelKind } from './types.ts';
import { ModelFormatError, assertDims, assertModel } from './validate.ts';

/*
 * Binary model file, version 1:
 *   0   'PIEM'                        magic, 4 ASCII bytes
 *   4   u32 version = 1               little-endian
 *   8   u32 headerLength              bytes of JSON that follow
 *   12  header                        UTF-8 JSON, see `Header`
 *   …   zero padding to a multiple of 8: the data section starts here (dataStart)
 *   …   arrays, raw little-endian, each at dataStart + byteOffset with byteOffset a multiple
 *       of 8 (zero padding between them), so they can be viewed in place without copying.
 * The file ends where its last array ends. Offsets are relative to dataStart, so the header's
 * own length never feeds back into them.
 *
 * Version 2 (architecture models: convolutional nets) has the same layout; its header carries
 * `arch` (the Architecture, BatchNorm folded) instead of `dims`, one layer per conv/dense op
 * (each naming its op), and for int8-full `activations` by tensor name. MLP models are still
 * written as version 1, byte for byte as before, and both versions are read.
 */

const MAGIC = [0x50, 0x49, 0x45, 0x4d]; // 'PIEM'
/** The newest version this code writes (architecture models); MLP models are written as version 1. */
export const MODEL_FORMAT_VERSION = 2;
const PREFIX_BYTES = 12;

type DType = 'f32' | 'f16' | 'u32' | 'u16' | 'i32' | 'i8';
type TypedArray = Float32Array | Uint32Array | Uint16Array | Int32Array | Int8Array;

const DTYPES: Record<DType, { bytes: number; view: (buf: ArrayBufferLike, byteOffset: number, length: number) => TypedArray }> = {
  f32: { bytes: 4, view: (b, o, n) => new Float32Array(b, o, n) },
  f16: { bytes: 2, view: (b, o, n) => new Uint16Array(b, o, n) }, // binary16 bit patterns
  u32: { bytes: 4, view: (b, o, n) => new Uint32Array(b, o, n) },
  u16: { bytes: 2, view: (b, o, n) => new Uint16Array(b, o, n) },
  i32: { bytes: 4, view: (b, o, n) => new Int32Array(b, o, n) },
  i8: { bytes: 1, view: (b, o, n) => new Int8Array(b, o, n) },
};

/** The arrays each layer of a kind stores, in file order, with their dtypes. */
const LAYER_ARRAYS: Record<ModelKind, [name: string, dtype: DType][]> = {
  'dense-f32': [['weights', 'f32'], ['bias', 'f32']],
  'sparse-f32': [['rowPtr', 'u32'], ['colIdx', 'u16'], ['values', 'f32'], ['bias', 'f32']],
  f16: [['weights', 'f16'], ['bias', 'f32']],
  'int8-dynamic': [['weights', 'i8'], ['weightScales', 'f32'], ['bias', 'f32']],
  'int8-full': [['weights', 'i8'], ['weightScales', 'f32'], ['bias', 'i32']],
};

interface ArrayEntry {
  name: string;
  dtype: DType;
  /** bytes from the start of the data section; a multiple of 8 */
  byteOffset: number;
  /** number of elements */
  length: number;
}

interface Header {
  kind: ModelKind;
  /** v1 */
  dims?: number[];
  /** v2 */
  arch?: Architecture;
  /** v2: each layer names its op. */
  layers: { name?: string; arrays: ArrayEntry[] }[];
  /** int8-full only: v1 [layers + 1] activation quantizations, v2 one per tensor name (small, so kept in the JSON). */
  activations?: ActivationQuantization[] | Record<string, ActivationQuantization>;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** Typed arrays use the platform's byte order; the file is little-endian, like every runtime we run on. */
function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new ModelFormatError('model files are little-endian; this big-endian platform is not supported');
  }
}

export function encodeModel(model: CompactModel): Uint8Array {
  assertModel(model);
  assertLittleEndian();
  const spec = LAYER_ARRAYS[model.kind];
  const blobs: TypedArray[] = [];
  let cursor = 0;
  const layers = model.layers.map((layer) => {
    const arrays = spec.map(([name, dtype]): ArrayEntry => {
      const data = (layer as unknown as Record<string, TypedArray>)[name];
      const entry = { name, dtype, byteOffset: cursor, length: data.length };
      blobs.push(data);
      cursor = align8(cursor + data.byteLength);
      return entry;
    });
    return { arrays };
  });
  let header: Header;
  let version: number;
  if (model.arch === undefined) {
    version = 1;
    header = { kind: model.kind, dims: model.dims, layers };
    if (model.kind === 'int8-full') {
      header.activations = model.activations.map(({ scale, zeroPoint }) => ({ scale, zeroPoint }));
    }
  } else {
    version = 2;
    const names = weightedOps(model.arch).map((op) => op.name);
    header = { kind: model.kind, arch: model.arch, layers: layers.map((l, k) => ({ name: names[k], arrays: l.arrays })) };
    if (model.kind === 'int8-full') {
      header.activations = Object.fromEntries(Object.entries(model.activations).map(([t, { scale, zeroPoint }]) => [t, { scale, zeroPoint }]));
    }
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = align8(PREFIX_BYTES + json.length);
  const last = blobs[blobs.length - 1];
  const entries = layers.flatMap((l) => l.arrays);
  const total = dataStart + entries[entries.length - 1].byteOffset + last.byteLength;

  const bytes = new Uint8Array(total);
  bytes.set(MAGIC, 0);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(4, version, true);
  dv.setUint32(8, json.length, true);
  bytes.set(json, PREFIX_BYTES);
  entries.forEach((entry, k) => {
    const b = blobs[k];
    bytes.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), dataStart + entry.byteOffset);
  });
  return bytes;
}

function fail(message: string, cause?: unknown): never {
  throw new ModelFormatError(`decodeModel: ${message}`, cause === undefined ? undefined : { cause });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A pruned member's compact model: CSR (`make('sparse-f32')`, 16-bit column indices, 6 bytes per
 * stored weight) where its file is smaller than the dense one's, else the dense matrix with its
 * zeros (`make('dense-f32')`); the kernels give the same sums either way (kernels.ts). CSR wins
 * above about a third sparsity: as CSR, LeNet-300-100 at 10 % and 30 % would be 1.35× and 1.05×
 * its dense file. A level's members share their exact sparsity, so they all get the same format.
 */
export function prunedModel(make: (kind: 'sparse-f32' | 'dense-f32') => CompactModel): CompactModel {
  const sparse = make('sparse-f32');
  const dense = make('dense-f32');
  return encodeModel(sparse).length < encodeModel(dense).length ? sparse : dense;
}

/**
 * Parses and validates a model file. Arrays are views into `bytes` (no copy) when their
 * position allows it, so the model shares memory with `bytes`; arrays that would be
 * misaligned (a `bytes` view at an odd byteOffset) are copied. Throws ModelFormatError naming
 * the problem for anything malformed, truncated or inconsistent.
 */
export function decodeModel(bytes: Uint8Array): CompactModel {
  assertLittleEndian();
  if (bytes.length < PREFIX_BYTES) fail(`truncated: ${bytes.length} bytes, the fixed prefix alone is ${PREFIX_BYTES}`);
  for (let k = 0; k < 4; k++) {
    if (bytes[k] !== MAGIC[k]) {
      fail(`bad magic ${JSON.stringify(String.fromCharCode(...bytes.subarray(0, 4)))}, expected "PIEM": not a model file`);
    }
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(4, true);
  if (version !== 1 && version !== 2) fail(`unsupported format version ${version}, this reader knows 1 and 2`);
  const headerLength = dv.getUint32(8, true);
  if (PREFIX_BYTES + headerLength > bytes.length) {
    fail(`truncated: header says ${headerLength} bytes of JSON but only ${bytes.length - PREFIX_BYTES} follow`);
  }

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength)));
  } catch (err) {
    fail('header is not valid UTF-8 JSON', err);
  }
  if (!isObject(header)) fail('header is not a JSON object');
  const kind = header.kind as ModelKind;
  if (typeof kind !== 'string' || !Object.hasOwn(LAYER_ARRAYS, kind)) fail(`unknown model kind ${JSON.stringify(header.kind)}`);
  let dims: number[] | undefined;
  let arch: Architecture | undefined;
  let layerCount: number;
  if (version === 1) {
    try {
      assertDims(header.dims, 'header');
    } catch (err) {
      fail((err as Error).message, err);
    }
    dims = header.dims as number[];
    layerCount = dims.length - 1;
    if (!Array.isArray(header.layers) || header.layers.length !== layerCount) {
      fail(`header lists ${Array.isArray(header.layers) ? header.layers.length : 'no'} layers, dims ${JSON.stringify(dims)} need ${layerCount}`);
    }
  } else {
    if (!isObject(header.arch) || !Array.isArray(header.arch.ops) || !Array.isArray(header.arch.input)) {
      fail('version 2 header needs arch: { name, input, classes, ops, output }');
    }
    arch = header.arch as unknown as Architecture;
    let names: string[];
    try {
      names = weightedOps(arch).map((op) => op.name);
    } catch (err) {
      fail(`header arch is malformed: ${(err as Error).message}`, err);
    }
    layerCount = names.length;
    if (!Array.isArray(header.layers) || header.layers.length !== layerCount) {
      fail(`header lists ${Array.isArray(header.layers) ? header.layers.length : 'no'} layers, arch ${JSON.stringify(arch.name)} has ${layerCount} conv/dense ops`);
    }
    (header.layers as unknown[]).forEach((entry, l) => {
      if (!isObject(entry) || entry.name !== names[l]) {
        fail(`layer ${l}: should be op ${JSON.stringify(names[l])}, got ${JSON.stringify(isObject(entry) ? entry.name : entry)}`);
      }
    });
  }

  const dataStart = align8(PREFIX_BYTES + headerLength);
  let end = dataStart;
  const spec = LAYER_ARRAYS[kind];
  const layers = (header.layers as unknown[]).map((layerEntry, l) => {
    const arrays = isObject(layerEntry) ? layerEntry.arrays : undefined;
    if (!Array.isArray(arrays) || arrays.length !== spec.length) {
      fail(`layer ${l}: expected arrays ${spec.map(([n]) => n).join(', ')} for kind ${kind}`);
    }
    const layer: Record<string, TypedArray> = {};
    spec.forEach(([name, dtype], k) => {
      const e = arrays[k] as Partial<ArrayEntry> | null;
      const where = `layer ${l} array ${name}`;
      if (!isObject(e) || e.name !== name) fail(`layer ${l}: array ${k} should be ${name}, got ${JSON.stringify(isObject(e) ? e.name : e)}`);
      if (e.dtype !== dtype) fail(`${where}: dtype ${JSON.stringify(e.dtype)}, expected ${dtype}`);
      const { byteOffset, length } = e;
      if (!Number.isSafeInteger(byteOffset) || byteOffset! < 0 || byteOffset! % 8 !== 0) {
        fail(`${where}: byteOffset ${JSON.stringify(byteOffset)} is not a non-negative multiple of 8`);
      }
      if (!Number.isSafeInteger(length) || length! < 0) fail(`${where}: length ${JSON.stringify(length)} is not a non-negative integer`);
      const { bytes: size, view } = DTYPES[dtype];
      const start = dataStart + byteOffset!;
      const stop = start + length! * size;
      if (stop > bytes.length) fail(`truncated: ${where} needs bytes ${start}..${stop} but the file has ${bytes.length}`);
      end = Math.max(end, stop);
      const absolute = bytes.byteOffset + start;
      layer[name] =
        absolute % size === 0
          ? view(bytes.buffer, absolute, length!)
          : view(bytes.slice(start, stop).buffer, 0, length!); // misaligned: copy
    });
    return layer;
  });
  if (end < bytes.length) fail(`${bytes.length - end} unexpected bytes after the last array (corrupt or concatenated file)`);

  const model = (version === 1 ? { kind, dims, layers } : { kind, arch, layers }) as unknown as CompactModel;
  if (kind === 'int8-full' && version === 2) {
    const acts = header.activations;
    if (!isObject(acts) || !Object.values(acts).every((a) => isObject(a) && typeof a.scale === 'number' && typeof a.zeroPoint === 'number')) {
      fail('int8-full header needs activations: { tensor: { scale, zeroPoint }, … }');
    }
    (model as { activations: Record<string, ActivationQuantization> }).activations = Object.fromEntries(
      Object.entries(acts as Record<string, ActivationQuantization>).map(([t, a]) => [t, { scale: a.scale, zeroPoint: a.zeroPoint }]),
    );
  } else if (kind === 'int8-full') {
    const acts = header.activations;
    if (!Array.isArray(acts) || !acts.every((a) => isObject(a) && typeof a.scale === 'number' && typeof a.zeroPoint === 'number')) {
      fail('int8-full header needs activations: [{ scale, zeroPoint }, …]');
    }
    (model as { activations: ActivationQuantization[] }).activations = acts.map((a) => ({ scale: a.scale, zeroPoint: a.zeroPoint }));
  }
  try {
    assertModel(model);
  } catch (err) {
    fail((err as Error).message, err);
  }
  return model;
}
