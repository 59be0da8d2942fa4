import { describe, expect, it } from 'vitest';
import { quantizeFloat16, toDenseModel, toSparseModel } from './convert.ts';
import { decodeModel, encodeModel, prunedModel } from './format.ts';
import { createPredictor } from './predictor.ts';
import { quantizeInt8Dynamic, quantizeInt8Full } from './quantize.ts';
import { pruneRandomly, randomImages, randomMlp } from './testing.ts';
import type { CompactModel } from './types.ts';
import { ModelFormatError } from './validate.ts';

const DIMS = [12, 7, 5, 3];
const net = pruneRandomly(randomMlp(DIMS, 7), 0.5, 8);
const calibration = randomImages(20, DIMS[0], 9);

const models: CompactModel[] = [
  toDenseModel(net),
  toSparseModel(net),
  quantizeFloat16(net),
  quantizeInt8Dynamic(net),
  quantizeInt8Full(net, calibration, 20),
];

type Arrays = Record<string, ArrayBufferView>;

function bytesOf(a: ArrayBufferView): number[] {
  return [...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)];
}

function expectSameModel(actual: CompactModel, expected: CompactModel): void {
  expect(actual.kind).toBe(expected.kind);
  expect(actual.dims).toEqual(expected.dims);
  expect(actual.layers.length).toBe(expected.layers.length);
  actual.layers.forEach((layer, l) => {
    const want = expected.layers[l] as unknown as Arrays;
    const got = layer as unknown as Arrays;
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const name of Object.keys(want)) {
      expect(got[name].constructor).toBe(want[name].constructor);
      expect(bytesOf(got[name])).toEqual(bytesOf(want[name]));
    }
  });
  if (expected.kind === 'int8-full') expect((actual as typeof expected).activations).toEqual(expected.activations);
}

describe('encodeModel / decodeModel', () => {
  it.each(models.map((m) => [m.kind, m] as const))('round-trips %s bit for bit', (_, model) => {
    const bytes = encodeModel(model);
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('PIEM');
    const decoded = decodeModel(bytes);
    expectSameModel(decoded, model);
    const x = randomImages(1, DIMS[0], 10);
    expect([...createPredictor(decoded).logits(x)]).toEqual([...createPredictor(model).logits(x)]);
  });

  it.each(models.map((m) => [m.kind, m] as const))('views %s arrays in place when aligned and copies them when not', (_, model) => {
    const bytes = encodeModel(model);
    const aligned = decodeModel(bytes);
    for (const array of Object.values(aligned.layers[0] as unknown as Arrays)) expect(array.buffer).toBe(bytes.buffer);

    // The same file at byteOffset 1 of a larger buffer: 2- and 4-byte arrays must be copied.
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    const copied = decodeModel(shifted);
    expectSameModel(copied, model);
    for (const array of Object.values(copied.layers[0] as unknown as Arrays)) {
      const elementSize = (array as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      expect(array.buffer === shifted.buffer).toBe(elementSize === 1);
    }
  });

  it('puts every array on an 8-byte boundary', () => {
    const bytes = encodeModel(models[1]);
    const headerLength = new DataView(bytes.buffer).getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
    const dataStart = Math.ceil((12 + headerLength) / 8) * 8;
    expect(dataStart % 8).toBe(0);
    for (const layer of header.layers) for (const a of layer.arrays) expect(a.byteOffset % 8).toBe(0);
  });
});

/** Re-assembles a file with an edited header (data section unchanged). */
function withHeader(bytes: Uint8Array, edit: (header: any) => void): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = dv.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
  const data = bytes.subarray(Math.ceil((12 + headerLength) / 8) * 8);
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = Math.ceil((12 + json.length) / 8) * 8;
  const out = new Uint8Array(dataStart + data.length);
  out.set(bytes.subarray(0, 8));
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(data, dataStart);
  return out;
}

/** Offset in the file of a layer's array, from the header. */
function arrayStart(bytes: Uint8Array, layer: number, name: string): number {
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
  const entry = header.layers[layer].arrays.find((a: { name: string }) => a.name === name);
  return Math.ceil((12 + headerLength) / 8) * 8 + entry.byteOffset;
}

describe('prunedModel', () => {
  it('stores a pruned net as CSR only where that file is smaller than the dense one, with the same logits', () => {
    const dims = [784, 300, 100, 10];
    const input = randomImages(3, 784, 4);
    for (const [sparsity, kind] of [[0.1, 'dense-f32'], [0.3, 'dense-f32'], [0.5, 'sparse-f32'], [0.9, 'sparse-f32']] as const) {
      const w = pruneRandomly(randomMlp(dims, 11), sparsity, 12);
      const chosen = prunedModel((k) => (k === 'sparse-f32' ? toSparseModel(w) : toDenseModel(w)));
      expect(chosen.kind, `sparsity ${sparsity}`).toBe(kind);
      const sizes = [encodeModel(toSparseModel(w)).length, encodeModel(toDenseModel(w)).length];
      expect(encodeModel(chosen).length).toBe(Math.min(...sizes));
      const [a, b] = [createPredictor(toSparseModel(w), { kernels: 'js' }), createPredictor(chosen, { kernels: 'js' })];
      for (let i = 0; i < 3; i++) {
        const x = input.subarray(i * 784, (i + 1) * 784);
        expect(Array.from(b.logits(x))).toEqual(Array.from(a.logits(x)));
      }
    }
  });
});

describe('decodeModel rejects corrupt files, naming the problem', () => {
  const dense = encodeModel(models[0]);
  const sparse = encodeModel(models[1]);
  const full = encodeModel(models[4]);
  const mutate = (bytes: Uint8Array, at: number, value: number) => {
    const copy = bytes.slice();
    copy[at] = value;
    return copy;
  };

  it.each([
    ['an empty file', new Uint8Array(0), /truncated: 0 bytes/],
    ['a file cut inside the prefix', dense.subarray(0, 10), /truncated: 10 bytes/],
    ['a wrong magic', mutate(dense, 0, 0x41), /bad magic "AIEM"/],
    ['a future version', mutate(dense, 4, 3), /unsupported format version 3/],
    ['a v1 file labelled version 2 (no arch)', mutate(dense, 4, 2), /version 2 header needs arch/],
    ['a header longer than the file', mutate(dense, 11, 0x7f), /header says \d+ bytes of JSON/],
    ['a header that is not JSON', mutate(dense, 13, 0x7b), /header is not valid UTF-8 JSON/],
    ['a file cut inside the data', dense.subarray(0, dense.length - 1), /truncated: layer 2 array bias needs bytes/],
    ['a file cut inside the header', dense.subarray(0, 40), /truncated: header says/],
    ['trailing bytes', Uint8Array.from([...dense, 0, 0, 0]), /3 unexpected bytes after the last array/],
    ['an unknown kind', withHeader(dense, (h) => (h.kind = 'int4')), /unknown model kind "int4"/],
    ['dims of the wrong length', withHeader(dense, (h) => h.dims.push(2)), /header lists 3 layers, dims \[12,7,5,3,2\] need 4/],
    ['dims that disagree with the arrays', withHeader(dense, (h) => (h.dims[1] = 8)), /layer 0: weights has length 84, expected 96 \(12×8\)/],
    ['a non-integer dim', withHeader(dense, (h) => (h.dims[0] = 1.5)), /dims must be positive integers/],
    ['a wrong dtype', withHeader(dense, (h) => (h.layers[0].arrays[0].dtype = 'f16')), /layer 0 array weights: dtype "f16", expected f32/],
    ['a misplaced array', withHeader(dense, (h) => (h.layers[0].arrays[0].byteOffset = 4)), /byteOffset 4 is not a non-negative multiple of 8/],
    ['an array past the end', withHeader(dense, (h) => (h.layers[1].arrays[0].byteOffset = 8000)), /truncated: layer 1 array weights needs bytes/],
    ['a missing array', withHeader(dense, (h) => h.layers[0].arrays.pop()), /layer 0: expected arrays weights, bias/],
    ['a renamed array', withHeader(dense, (h) => (h.layers[0].arrays[1].name = 'b')), /array 1 should be bias, got "b"/],
    ['a decreasing CSR row pointer', mutate(sparse, arrayStart(sparse, 0, 'rowPtr') + 4 * 3, 0xff), /rowPtr decreases at row 3/],
    ['a column index out of range', mutate(sparse, arrayStart(sparse, 1, 'colIdx') + 1, 0x01), /colIdx\[0\] = \d+ is out of range for 5 outputs/],
    ['an int8 weight of −128', mutate(full, arrayStart(full, 0, 'weights'), 0x80), /weights\[0\] is −128/],
    ['a zero scale', withHeader(full, (h) => (h.activations[1].scale = 0)), /activations\[1\]: scale must be finite and > 0, got 0/],
    ['a zero point out of range', withHeader(full, (h) => (h.activations[0].zeroPoint = 200)), /zeroPoint must be an integer in \[−128, 127\], got 200/],
    ['missing activations', withHeader(full, (h) => delete h.activations), /int8-full header needs activations/],
  ])('%s', (_, bytes, message) => {
    expect(() => decodeModel(bytes)).toThrow(ModelFormatError);
    expect(() => decodeModel(bytes)).toThrow(message);
  });
});
