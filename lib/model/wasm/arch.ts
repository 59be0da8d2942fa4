import { type Op, type Shape3, tensorShapes } from '../arch.ts';
import { layerDims, weightedOps } from '../arch-layers.ts';
import { fromCsrLayer } from '../convert.ts';
import type { ArchCompactModel, SparseF32Layer } from '../types.ts';
import { BLOCK } from './source.ts';
import { CONV_MAX_FILTERS, type ConvExports } from './source-conv.ts';
import type { WasmKernels } from './runtime.ts';

/** Every architecture model kind runs on the WebAssembly kernels. */
export type WasmArchModelInput = ArchCompactModel;

export interface WasmArchModel {
  readonly bytes: number;
  /** Logits of the HWC image at xs[off .. off + h·w·c) into out. */
  forward(xs: Float32Array, off: number, out: Float32Array): void;
  release(): void;
}

const size = (s: Shape3) => s[0] * s[1] * s[2];
const align = (n: number) => Math.ceil(n / 16) * 16;
/** Bytes after every scratch buffer: vector loads of a row's last columns and the pair builder's groups of 8 read and write past its end. */
const SLACK = 256;

type ConvOp = Extract<Op, { op: 'conv' }>;
type Step = (base: number) => void;

/** Geometry of a conv's padded, column-phase-split input (source-conv.ts). */
interface Padded {
  C: number; H: number; W: number; p: number; s: number; k: number;
  Hp: number; Wq: number; rowB: number; phaseB: number; chanB: number;
  /** Byte offset of spatial tap e = ky·k + kx. */
  kOff: Int32Array;
}

function padded(op: ConvOp, [H, W, C]: Shape3): Padded {
  const { padding: p, stride: s, kernel: k } = op;
  const Hp = H + 2 * p, Wq = Math.ceil((W + 2 * p) / s);
  const rowB = Wq * 4, phaseB = Hp * rowB, chanB = s * phaseB;
  const kOff = new Int32Array(k * k);
  for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) kOff[ky * k + kx] = ky * rowB + (kx % s) * phaseB + Math.floor(kx / s) * 4;
  return { C, H, W, p, s, k, Hp, Wq, rowB, phaseB, chanB, kOff };
}

/** Kernel matrix [inDim, F] (HWIO rows) → groups of fb filters, each [inDim][its filters] (source-conv.ts). */
function byFilterGroups<T extends Float32Array | Uint16Array>(w: T, inDim: number, F: number, fb: number): T {
  const out = new (w.constructor as new (n: number) => T)(w.length);
  let q = 0;
  for (let f0 = 0; f0 < F; f0 += fb) {
    const n = Math.min(fb, F - f0);
    for (let j = 0; j < inDim; j++) for (let f = f0; f < f0 + n; f++) out[q++] = w[j * F + f];
  }
  return out;
}

/** Filters per register block of a dense conv: each input vector loaded feeds two filters. */
const filtersPerBlock = (F: number) => Math.min(F, CONV_MAX_FILTERS);

/** A dense layer's rows from the HWC order of its input to the CHW order of the tensors here. */
function chwRows<T extends Float32Array | Uint16Array | Int8Array>(w: T, [h, wd, c]: Shape3, outDim: number): T {
  if (c === 1 || h * wd === 1) return w;
  const out = new (w.constructor as new (n: number) => T)(w.length);
  const hw = h * wd;
  for (let p = 0; p < hw; p++) for (let ch = 0; ch < c; ch++) out.set(w.subarray((p * c + ch) * outDim, (p * c + ch + 1) * outDim), (ch * hw + p) * outDim);
  return out;
}

function chwCsr(layer: SparseF32Layer, [h, wd, c]: Shape3): SparseF32Layer {
  if (c === 1 || h * wd === 1) return layer;
  const { rowPtr, colIdx, values } = layer;
  const hw = h * wd, inDim = hw * c;
  const rp = new Uint32Array(inDim + 1), col = new Uint16Array(colIdx.length), val = new Float32Array(values.length);
  let k = 0;
  for (let r = 0; r < inDim; r++) {
    const src = (r % hw) * c + Math.floor(r / hw);
    for (let q = rowPtr[src]; q < rowPtr[src + 1]; q++, k++) { col[k] = colIdx[q]; val[k] = values[q]; }
    rp[r + 1] = k;
  }
  return { rowPtr: rp, colIdx: col, values: val, bias: layer.bias };
}

/** packed[p][o][t] = W[2p + t][o] (0 past the last input): the layout of the int8_layer kernel (source.ts). */
function packInputPairs(w: Int8Array, inDim: number, outDim: number): Int8Array {
  const out = new Int8Array(Math.ceil(inDim / 2) * outDim * 2);
  for (let i = 0; i < inDim; i++) {
    const base = (i >> 1) * outDim * 2 + (i & 1);
    for (let o = 0; o < outDim; o++) out[base + 2 * o] = w[i * outDim + o];
  }
  return out;
}

/**
 * int8 conv weights as tap pairs for dot_i16x8_s (source-conv.ts): channel pairs when C is even
 * (outer table = the k·k spatial taps, inner C / 2 pairs), else column pairs (kx, kx + s) of one
 * channel (outer table = (ky, kx) pair starts, inner C channels). Returns per filter
 * [outer][inner][2] int8 and the outer offset table.
 */
function tapPairs(w: Int8Array, g: Padded, F: number, fb: number): { packed: Int8Array; tab: Int32Array; nB: number; mode: number; planes: number } {
  const { k, s, C } = g;
  const at = (ky: number, kx: number, c: number, f: number) => w[((ky * k + kx) * C + c) * F + f];
  // One filter's pairs as [tap pair][2] taps, listed by (ky, kx, c).
  let pairs: [ky: number, kx: number, c: number, ky2: number, kx2: number, c2: number][] = [];
  let tab: Int32Array, nB: number, mode: number, planes: number;
  if (C % 2 === 0) {
    for (let e = 0; e < k * k; e++) for (let c = 0; c < C; c += 2) pairs.push([Math.floor(e / k), e % k, c, Math.floor(e / k), e % k, c + 1]);
    [tab, nB, mode, planes] = [g.kOff, C / 2, 0, C / 2];
  } else {
    const starts: [ky: number, kx: number][] = [];
    for (let ky = 0; ky < k; ky++) for (let phase = 0; phase < s; phase++) for (let kx = phase; kx < k; kx += 2 * s) starts.push([ky, kx]);
    for (const [ky, kx] of starts) for (let c = 0; c < C; c++) pairs.push([ky, kx, c, ky, kx + s, c]);
    [tab, nB, mode, planes] = [Int32Array.from(starts, ([ky, kx]) => g.kOff[ky * k + kx]), C, 1, C];
  }
  const packed = new Int8Array(F * pairs.length * 2);
  let q = 0;
  for (let f0 = 0; f0 < F; f0 += fb) {
    const n = Math.min(fb, F - f0);
    for (const [ky, kx, c, ky2, kx2, c2] of pairs) {
      for (let f = f0; f < f0 + n; f++) {
        packed[q++] = at(ky, kx, c, f);
        packed[q++] = kx2 < k ? at(ky2, kx2, c2, f) : 0;
      }
    }
  }
  pairs = [];
  return { packed, tab, nB, mode, planes };
}

/**
 * Loads an architecture model into the kernels' linear memory and returns its forward pass,
 * one image at a time: convolutions, pooling, residual adds and global pooling run on the
 * conv kernels of source-conv.ts over planar (CHW) tensors, dense layers on the layer kernels
 * of source.ts (exports row_f32, row_f16, sparse_f32, int8_layer) with their rows reordered
 * to CHW. Weights keep their compact type; every tensor and work buffer lives in the runtime's
 * one shared scratch (rt.scratch), so a loaded model holds only its weights.
 */
export function loadWasmArchModel(rt: WasmKernels, model: WasmArchModelInput): WasmArchModel {
  const { arch, kind } = model;
  const shapes = tensorShapes(arch);
  const dims = layerDims(arch);
  const ops = weightedOps(arch);
  const layerOf = new Map(ops.map((op, l) => [op.name, l]));
  const k = rt.k;
  const kc = rt.k as unknown as ConvExports;
  const allocations: number[] = [];
  const put = (a: ArrayBufferView) => { const p = rt.put(a); allocations.push(p); return p; };
  const codes = kind === 'int8-full';
  const elem = codes ? 1 : 4;
  const int8 = kind === 'int8-dynamic' || kind === 'int8-full';

  // Scratch offsets (relative to the shared scratch's base).
  let offset = 0;
  const place = (bytes: number) => { const at = offset; offset += align(bytes) + SLACK; return at; };
  const tensorAt = new Map<string, number>([...shapes].map(([name, s]) => [name, place(size(s) * elem)]));
  const inLen = size(arch.input);
  const stagingAt = codes ? place(inLen * 4) : tensorAt.get('input')!;
  let padBytes = 0, qBytes = 0, pairBytes = 0, maxDim = 0, decodeBytes = 0;
  for (const op of arch.ops) {
    if (op.op !== 'conv') continue;
    const g = padded(op, shapes.get(op.input)!);
    const planeElems = g.s * g.Hp * g.Wq;
    padBytes = Math.max(padBytes, g.C * planeElems * 4);
    qBytes = Math.max(qBytes, g.C * planeElems * 2);
    pairBytes = Math.max(pairBytes, g.C * planeElems * 4);
    if (kind === 'f16') decodeBytes = Math.max(decodeBytes, g.k * g.k * g.C * op.filters * 4);
  }
  dims.forEach(([i, o]) => { maxDim = Math.max(maxDim, i, o); });
  const padAt = place(int8 ? pairBytes : padBytes);
  const qAt = int8 ? place(qBytes) : 0;
  const decodeAt = decodeBytes ? place(decodeBytes) : 0;
  const nzAt = place(maxDim * 8), cntAt = place(16), accAt = place(Math.max(8 + BLOCK * 4, maxDim * 4 + 16) + 64);
  const scratchBytes = offset;

  const steps: Step[] = arch.ops.map((op): Step => {
    const y = tensorAt.get(op.output)!;
    const inShape = 'input' in op ? shapes.get(op.input)! : shapes.get(op.inputs[0])!;
    switch (op.op) {
      case 'conv': {
        const l = layerOf.get(op.name)!;
        const [inDim, F] = dims[l];
        const [oh, ow] = shapes.get(op.output)!;
        const g = padded(op, inShape);
        const x = tensorAt.get(op.input)!;
        const xRow = g.s * g.rowB;
        const relu = op.relu ? 1 : 0;
        const n2 = g.k * g.k;
        const fb = filtersPerBlock(F);
        const pad: Step = (b) => kc.cnn_pad(b + x, g.C, g.H, g.W, b + padAt, g.p, g.s, g.Hp, g.Wq, 2);
        if (kind === 'dense-f32' || kind === 'f16' || kind === 'sparse-f32') {
          let weights: Float32Array | Uint16Array | null = kind === 'sparse-f32' ? null : model.layers[l].weights as Float32Array | Uint16Array;
          const bias = put(model.layers[l].bias);
          if (kind === 'sparse-f32') {
            const layer = model.layers[l];
            const nnz = layer.values.length;
            // Per filter, its nonzero taps as 16-bit input offsets (in floats) and values; held dense when
            // that is larger than the dense kernel, or when the padded input is too large for 16-bit offsets.
            const span = (g.C * g.chanB) / 4;
            if (span > 65536 || nnz * 6 + (F + 1) * 4 > inDim * F * 4) {
              weights = fromCsrLayer(layer, inDim, F);
            } else {
              const fptr = new Uint32Array(F + 1);
              for (let q = 0; q < nnz; q++) fptr[layer.colIdx[q] + 1]++;
              for (let f = 0; f < F; f++) fptr[f + 1] += fptr[f];
              const off = new Uint16Array(nnz), val = new Float32Array(nnz), fill = fptr.slice(0, F);
              for (let j = 0; j < inDim; j++) {
                const at = (g.kOff[Math.floor(j / g.C)] + (j % g.C) * g.chanB) / 4;
                for (let q = layer.rowPtr[j]; q < layer.rowPtr[j + 1]; q++) {
                  const to = fill[layer.colIdx[q]]++;
                  off[to] = at;
                  val[to] = layer.values[q];
                }
              }
              const po = put(off), pv = put(val), pf = put(fptr);
              return (b) => { pad(b); kc.cnn_conv_csr(b + padAt, b + y, F, oh, ow, po, pv, pf, 0, 0, 1, 0, xRow, bias, 0, relu, 0, 0, 0, 1); };
            }
          }
          const w = put(byFilterGroups(weights!, inDim, F, fb)), tab = put(g.kOff);
          if (kind === 'f16') {
            // Widened once per pass into scratch (a small part of the conv's work; the model keeps binary16).
            return (b) => {
              pad(b);
              k.f16_widen(w, inDim * F, b + decodeAt);
              kc.cnn_conv_f32(b + padAt, b + y, F, oh, ow, b + decodeAt, 0, 0, tab, n2, g.C, g.chanB, xRow, bias, 0, relu, 0, 0, 0, fb);
            };
          }
          return (b) => { pad(b); kc.cnn_conv_f32(b + padAt, b + y, F, oh, ow, w, 0, 0, tab, n2, g.C, g.chanB, xRow, bias, 0, relu, 0, 0, 0, fb); };
        }
        const layer = model.layers[l];
        const pairs = tapPairs(layer.weights, g, F, fb);
        const w = put(pairs.packed), tab = put(pairs.tab);
        const nA = pairs.tab.length, planeElems = g.s * g.Hp * g.Wq;
        const len = size(inShape);
        // 16-bit values (compact, in the pair buffer), padded into qAt, then paired into the pair buffer.
        const padPair: Step = (b) => {
          kc.cnn_pad(b + padAt, g.C, g.H, g.W, b + qAt, g.p, g.s, g.Hp, g.Wq, 1);
          kc.cnn_pairs(pairs.mode, b + qAt, pairs.planes, planeElems, b + padAt);
        };
        if (model.kind === 'int8-dynamic') {
          const bias = put(layer.bias), scales = put(layer.weightScales);
          return (b) => {
            // As convInt8Dynamic: one scale for the whole input tensor, m = max |x|.
            const m = kc.cnn_absmax(b + x, len);
            kc.cnn_quantize_q(0, b + x, len, b + padAt, 0, m > 0 ? 127 / m : 0);
            padPair(b);
            kc.cnn_conv_i8d(b + padAt, b + y, F, oh, ow, w, 0, 0, tab, nA, pairs.nB, g.chanB, xRow, bias, scales, relu, 0, 0, m / 127, fb);
          };
        }
        if (model.kind !== 'int8-full') throw new Error('unreachable');
        const qIn = model.activations[op.input], qOut = model.activations[op.output];
        const bias = put(model.layers[l].bias);
        const mult = put(Float64Array.from(model.layers[l].weightScales, (sw) => (qIn.scale * sw) / qOut.scale));
        const lo = op.relu ? qOut.zeroPoint : -128;
        return (b) => {
          kc.cnn_quantize_q(1, b + x, len, b + padAt, qIn.zeroPoint, 0);
          padPair(b);
          kc.cnn_conv_i8f(b + padAt, b + y, F, oh, ow, w, 0, 0, tab, nA, pairs.nB, g.chanB, xRow, bias, mult, 0, qOut.zeroPoint, lo, 0, fb);
        };
      }
      case 'dense': {
        const l = layerOf.get(op.name)!;
        const [inDim, outDim] = dims[l];
        const x = tensorAt.get(op.input)!;
        const relu = op.relu ? 1 : 0;
        const dense = (weights: Float32Array | Uint16Array, bias: Float32Array): Step => {
          const w = put(chwRows(weights, inShape, outDim)), bp = put(bias);
          const row = weights instanceof Uint16Array ? k.row_f16 : k.row_f32;
          return (b) => row(b + x, inDim, outDim, w, bp, b + y, relu, b + nzAt, b + accAt);
        };
        switch (model.kind) {
          case 'dense-f32':
          case 'f16':
            return dense(model.layers[l].weights, model.layers[l].bias);
          case 'sparse-f32': {
            const layer = chwCsr(model.layers[l], inShape);
            // Held dense when the CSR arrays would be larger (the dense kernel gives the same sums, source.ts).
            if (layer.rowPtr.byteLength + layer.colIdx.byteLength + layer.values.byteLength > inDim * outDim * 4) {
              const w = put(fromCsrLayer(layer, inDim, outDim)), bp = put(layer.bias);
              return (b) => k.row_f32(b + x, inDim, outDim, w, bp, b + y, relu, b + nzAt, b + accAt);
            }
            const rp = put(layer.rowPtr), val = put(layer.values), bp = put(layer.bias);
            if (outDim > 16384) {
              const col = put(layer.colIdx);
              return (b) => k.sparse_f32(b + x, 1, inDim, outDim, rp, col, val, bp, b + y, relu);
            }
            const col = put(layer.colIdx.map((c) => c * 4));
            return (b) => kc.cnn_sparse_row(b + x, inDim, outDim, rp, col, val, bp, b + y, relu);
          }
          case 'int8-dynamic': {
            const layer = model.layers[l];
            const w = put(packInputPairs(chwRows(layer.weights, inShape, outDim), inDim, outDim)), sc = put(layer.weightScales), bp = put(layer.bias);
            return (b) => k.int8_layer(0, b + x, 1, inDim, outDim, w, sc, bp, b + y, relu, 0, 0, 0, b + nzAt, b + cntAt, b + accAt);
          }
          case 'int8-full': {
            const layer = model.layers[l];
            const qIn = model.activations[op.input], qOut = model.activations[op.output];
            const w = put(packInputPairs(chwRows(layer.weights, inShape, outDim), inDim, outDim)), bp = put(layer.bias);
            const m = put(Float64Array.from(layer.weightScales, (sw) => (qIn.scale * sw) / qOut.scale));
            const lo = op.relu ? qOut.zeroPoint : -128;
            return (b) => k.int8_layer(1, b + x, 1, inDim, outDim, w, m, bp, b + y, 0, qIn.zeroPoint, qOut.zeroPoint, lo, b + nzAt, b + cntAt, b + accAt);
          }
        }
        throw new Error('unreachable');
      }
      case 'maxpool': {
        const [h, w, c] = inShape;
        const [oh, ow] = shapes.get(op.output)!;
        const x = tensorAt.get(op.input)!;
        const pool = codes ? kc.cnn_maxpool_i8 : kc.cnn_maxpool_f32;
        return (b) => pool(b + x, c, h, w, op.size, op.stride, oh, ow, b + y);
      }
      case 'add': {
        const [a, c] = op.inputs;
        const pa = tensorAt.get(a)!, pb = tensorAt.get(c)!;
        const n = size(inShape);
        if (model.kind !== 'int8-full') return (b) => kc.cnn_add_f32(b + pa, b + pb, n, op.relu ? 1 : 0, b + y);
        const qa = model.activations[a], qb = model.activations[c], qOut = model.activations[op.output];
        const lo = op.relu ? qOut.zeroPoint : -128;
        return (b) => kc.cnn_add_i8(b + pa, qa.zeroPoint, qa.scale / qOut.scale, b + pb, qb.zeroPoint, qb.scale / qOut.scale, n, qOut.zeroPoint, lo, b + y);
      }
      case 'gap': {
        const [h, w, c] = inShape;
        const x = tensorAt.get(op.input)!;
        if (model.kind !== 'int8-full') return (b) => kc.cnn_gap_f32(b + x, h * w, c, b + y);
        const qIn = model.activations[op.input], qOut = model.activations[op.output];
        const mult = qIn.scale / (h * w * qOut.scale);
        return (b) => kc.cnn_gap_i8(b + x, qIn.zeroPoint, h * w, c, mult, qOut.zeroPoint, b + y);
      }
    }
  });

  const bytes = allocations.reduce((a, p) => a + rt.sizeOf(p), 0);
  const [H, W, C] = arch.input;
  const outAt = tensorAt.get(arch.output)!;
  const classes = arch.classes;
  const act0 = model.kind === 'int8-full' ? model.activations.input : null;
  const actL = model.kind === 'int8-full' ? model.activations[arch.output] : null;
  let released = false;
  // The closures below share this function's scope, which holds `model`: drop it, so that a loaded
  // model does not keep its decoded JS arrays alive beside their copies in linear memory.
  model = null as unknown as WasmArchModelInput;

  return {
    bytes,
    forward(xs, off, out) {
      if (released) throw new Error('predictor used after release()');
      const base = rt.scratch(scratchBytes);
      let f32 = rt.f32();
      const at = (base + stagingAt) / 4;
      if (C === 1) f32.set(xs.subarray(off, off + inLen), at);
      else {
        // HWC image → CHW planes
        const hw = H * W;
        for (let p = 0; p < hw; p++) for (let c = 0; c < C; c++) f32[at + c * hw + p] = xs[off + p * C + c];
      }
      if (act0) kc.cnn_quantize_input(base + stagingAt, inLen, act0.scale, act0.zeroPoint, base + tensorAt.get('input')!);
      for (const step of steps) step(base);
      if (actL) {
        const q = new Int8Array(rt.u8().buffer, base + outAt, classes);
        for (let o = 0; o < classes; o++) out[o] = (q[o] - actL.zeroPoint) * actL.scale;
      } else {
        f32 = rt.f32();
        out.set(f32.subarray((base + outAt) / 4, (base + outAt) / 4 + classes));
      }
    },
    release() {
      if (released) return;
      released = true;
      for (const p of allocations) rt.release(p);
    },
  };
}
