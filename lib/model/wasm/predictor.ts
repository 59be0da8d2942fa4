import type { ClassArray } from '../../class-array.ts';
import type { Int8WeightsLayer, MlpCompactModel } from '../types.ts';
import { fromCsrLayer } from '../convert.ts';
import { denseTmpBytes, ENTRY, PANEL } from './mlp-source.ts';
import type { WasmKernels } from './runtime.ts';

/** Images per tile: each block of a layer's weights is read once per tile, then from cache. */
export const TILE = 16;

/**
 * Batches of at least TILE images run f16 layers, and CSR layers dense enough, on the float32
 * kernel over their weights written out as float32 panels once per batch ("widened"), up to this
 * many bytes per model. Widening once per batch beat widening every f16 weight once per image in
 * the f16 kernel (2.1× on LeNet-300-100 batches); it costs about as much as a couple of images, so
 * one image and small batches keep the f16 and CSR kernels.
 */
export const WIDE_MAX_BYTES = 4 * 1024 * 1024;

/**
 * A CSR layer storing at least this share of its weights is widened for a batch: at 50 % the CSR
 * tile kernel ran at 0.56–0.91 of dense's speed, at 10 % at 1.9–2.8× it.
 */
export const CSR_PANELS_MIN_DENSITY = 0.4;

/**
 * One layer's kernel call: x → y over n images, ReLU when relu = 1. `lanes`: the layer takes
 * and gives activations feature-major with the images in L lanes (CSR over n > 1 images),
 * instead of image-major.
 */
interface Layer {
  inDim: number;
  outDim: number;
  lanes: boolean;
  run(x: number, n: number, y: number, relu: number, L: number): void;
}

export interface WasmModel {
  readonly dims: readonly number[];
  /** Bytes of linear memory the model's arrays occupy (with alignment). */
  readonly bytes: number;
  /** Logits of n images (x: [n × dims[0]] floats) into out; labels too when asked. */
  forward(xs: Float32Array, xOff: number, n: number, logits: Float32Array | null, labels: ClassArray | null, labelsOff: number): void;
  /** Predicted class of one image already in linear memory at x (dims[0] floats, left unchanged), as argmax of its logits. */
  label(x: number): number;
  release(): void;
}

/**
 * Copies a compact model into the kernels' linear memory, in the kernels' layout, and returns
 * its forward pass. Weights keep their compact type (f16 stays binary16, int8 stays int8; int8
 * is reordered by input pairs, same bytes). A CSR layer whose arrays would exceed the dense
 * float32 matrix (low sparsity) is stored dense instead: the values are the same, and the
 * dense kernel gives the CSR kernel's results bit for bit (see mlp-source.ts).
 */
export function loadWasmModel(rt: WasmKernels, model: MlpCompactModel): WasmModel {
  const dims = [...model.dims];
  const L = dims.length - 1;
  const allocations: number[] = [];
  const put = (a: ArrayBufferView) => { const p = rt.put(a); allocations.push(p); return p; };
  // A −0 bias becomes +0, so that no float sum is ever −0 and skipping a zero product never
  // changes one (mlp-source.ts); the logits are the same numbers.
  const putBias = (b: Float32Array) => put(Float32Array.from(b, (v) => v + 0));
  const layers: Layer[] = [];
  const k = rt.k;
  const maxDim = Math.max(...dims);
  // Scratch offsets (from the runtime's shared scratch): three activation buffers of a tile
  // ([TILE × maxDim] floats, or [maxDim × lanes]), nonzero lists, counts, a block's spill, labels.
  const act = align(TILE * maxDim * 4 + 64);
  const NZ = 3 * act, CNT = NZ + align(TILE * maxDim * ENTRY + 64), TMP = CNT + align(TILE * 8 + 64);
  // TMP: a partial block's outputs, f16's per-image flags (at +256) and a tile's slice bounds (at +512),
  // CSR's one-image accumulator, or int8's scales and int32 accumulators.
  const LAB = TMP + align(Math.max(denseTmpBytes(TILE, maxDim), maxDim * 4 + 16, TILE * 8 + TILE * align(maxDim, 8) * 4) + 64);
  const WIDE = LAB + align(TILE * 2 + 16);
  let nz = 0, cnt = 0, tmp = 0; // absolute addresses, set per forward()
  let codesIn = false; // int8-full: layers read and write int8 codes
  // f16 layers, and CSR layers dense enough: the bytes of their weights as float32 panels (each
  // layer's at its offset `at` in the WIDE scratch), and while a batch runs, the WIDE scratch's
  // address (else 0: the f16 and CSR kernels run).
  let wideBytes = 0, wide = 0;
  const denseRun = (fn: typeof k.mlp_dense_f32, inDim: number, outDim: number, w: number, b: number): Layer => ({
    inDim, outDim, lanes: false,
    run: (x, n, y, relu) => fn(x, n, inDim, outDim, w, b, y, relu, nz, cnt, tmp),
  });
  /** Writes each widened layer into the WIDE scratch at `wide`, for a batch. */
  const toWide: (() => void)[] = [];
  /** `layer`, but while a batch runs widened, the float32 kernel over the panels `write` puts at `wide`. */
  const widened = (layer: Layer, b: number, write: (at: number) => void): Layer => {
    const at = wideBytes;
    wideBytes += align(layer.inDim * layer.outDim * 4);
    toWide.push(() => write(wide + at));
    const { inDim, outDim } = layer;
    return {
      inDim, outDim,
      get lanes() { return !wide && layer.lanes; },
      run: (x, n, y, relu, lanes) => (wide ? k.mlp_dense_f32(x, n, inDim, outDim, wide + at, b, y, relu, nz, cnt, tmp) : layer.run(x, n, y, relu, lanes)),
    };
  };
  for (let l = 0; l < L; l++) {
    const inDim = dims[l], outDim = dims[l + 1];
    switch (model.kind) {
      case 'dense-f32': {
        const layer = model.layers[l];
        layers.push(denseRun(k.mlp_dense_f32, inDim, outDim, put(panels(layer.weights, inDim, outDim)), putBias(layer.bias)));
        break;
      }
      case 'f16': {
        const layer = model.layers[l];
        const w = put(panels(layer.weights, inDim, outDim)), b = putBias(layer.bias);
        layers.push(widened(denseRun(k.mlp_dense_f16, inDim, outDim, w, b), b, (dst) => k.f16_widen(w, inDim * outDim, dst)));
        break;
      }
      case 'sparse-f32': {
        const { rowPtr, colIdx, values, bias } = model.layers[l];
        const b = putBias(bias);
        if (rowPtr.byteLength + colIdx.byteLength + values.byteLength > inDim * outDim * 4) {
          layers.push(denseRun(k.mlp_dense_f32, inDim, outDim, put(panels(fromCsrLayer(model.layers[l], inDim, outDim), inDim, outDim)), b));
        } else {
          const rp = put(rowPtr), col = put(colIdx), val = put(values);
          const byLanes = [k.csr_t1, k.csr_t2, k.csr_t1, k.csr_t4];
          const csr: Layer = {
            inDim, outDim, lanes: true,
            run: (x, n, y, relu, lanes) => n === 1
              ? k.csr_1(x, inDim, outDim, rp, col, val, b, y, relu, nz, tmp)
              : byLanes[(lanes >> 2) - 1](x, inDim, outDim, rp, col, val, b, y, relu),
          };
          layers.push(values.length >= CSR_PANELS_MIN_DENSITY * inDim * outDim
            ? widened(csr, b, (dst) => k.csr_panels(inDim, outDim, rp, col, val, dst)) : csr);
        }
        break;
      }
      case 'int8-dynamic': {
        const layer = model.layers[l];
        const w = put(pairPanels(layer, inDim, outDim)), sc = put(layer.weightScales), b = put(layer.bias);
        layers.push({ inDim, outDim, lanes: false, run: (x, n, y, relu) => k.mlp_int8(0, x, n, inDim, outDim, w, sc, b, y, relu, 0, 0, 0, nz, cnt, tmp) });
        break;
      }
      case 'int8-full': {
        codesIn = true;
        const layer = model.layers[l];
        const sIn = model.activations[l].scale, sOut = model.activations[l + 1].scale;
        // M[o] = s_in · s_w[o] / s_out in float64, as in the JS kernel; padded to whole vectors of 4.
        const mult = new Float64Array(align(outDim, 4));
        layer.weightScales.forEach((sw, o) => { mult[o] = (sIn * sw) / sOut; });
        const w = put(pairPanels(layer, inDim, outDim)), m = put(mult), b = put(layer.bias);
        const zpIn = model.activations[l].zeroPoint, zpOut = model.activations[l + 1].zeroPoint;
        const lo = l === L - 1 ? -128 : zpOut;
        layers.push({ inDim, outDim, lanes: false, run: (x, n, y) => k.mlp_int8(1, x, n, inDim, outDim, w, m, b, y, 0, zpIn, zpOut, lo, nz, cnt, tmp) });
        break;
      }
    }
  }
  const widens = wideBytes > 0 && wideBytes <= WIDE_MAX_BYTES;
  // Only a batch that widens asks for the WIDE scratch.
  const scratchBytes = WIDE, batchScratchBytes = WIDE + (widens ? wideBytes : 0);
  const bytes = allocations.reduce((a, p) => a + rt.sizeOf(p), 0);
  const inDim = dims[0], outDim = dims[L];
  const act0 = model.kind === 'int8-full' ? model.activations[0] : null;
  const actL = model.kind === 'int8-full' ? model.activations[L] : null;
  let released = false;

  /**
   * Runs t ≤ TILE images from x (t × inDim floats in linear memory, at base or elsewhere) through
   * the layers in the scratch buffers at base; returns where the outputs are ([t × outDim], f32,
   * or int8 codes for int8-full).
   */
  const run = (base: number, x: number, t: number): number => {
    nz = base + NZ; cnt = base + CNT; tmp = base + TMP;
    const bufs = [base, base + act, base + 2 * act];
    const lanes = t === 1 ? 0 : t <= 4 ? 4 : t <= 8 ? 8 : 16;
    let cur = 0, inLanes = false;
    bufs[0] = x;
    if (act0) {
      k.quant_in4(x, t * inDim, act0.scale, act0.zeroPoint, bufs[1]);
      cur = 1;
    }
    for (let l = 0; l < L; l++) {
      const layer = layers[l];
      const want = layer.lanes && t > 1;
      // The input buffer x is never written: it may be the caller's (predictEach).
      if (want !== inLanes) {
        const dst = cur === 1 ? 2 : 1;
        (want ? k.lanes_in : k.lanes_out)(bufs[cur], t, layer.inDim, bufs[dst], lanes);
        cur = dst;
        inLanes = want;
      }
      const dst = cur === 1 ? 2 : 1;
      layer.run(bufs[cur], t, bufs[dst], l < L - 1 ? 1 : 0, lanes);
      cur = dst;
    }
    if (inLanes) {
      const dst = cur === 1 ? 2 : 1;
      k.lanes_out(bufs[cur], t, outDim, bufs[dst], lanes);
      cur = dst;
    }
    return bufs[cur];
  };

  /** Runs n images in tiles from the scratch at base: labels and logits out, as forward() gives them. */
  const tiles = (base: number, xs: Float32Array, xOff: number, n: number, logits: Float32Array | null, labels: ClassArray | null, labelsOff: number) => {
    for (let start = 0; start < n; start += TILE) {
      const t = Math.min(TILE, n - start);
      rt.f32().set(xs.length === t * inDim && xOff === 0 ? xs : xs.subarray(xOff + start * inDim, xOff + (start + t) * inDim), base >> 2);
      const y = run(base, base, t);
      if (labels) {
        (codesIn ? k.argmax_i8 : k.argmax_f32)(y, t, outDim, base + LAB);
        const u16 = new Uint16Array(rt.u8().buffer, base + LAB, t);
        for (let j = 0; j < t; j++) labels[labelsOff + start + j] = u16[j];
      }
      if (logits) {
        if (actL) {
          const i8 = new Int8Array(rt.u8().buffer, y, t * outDim);
          for (let q = 0; q < t * outDim; q++) logits[start * outDim + q] = (i8[q] - actL.zeroPoint) * actL.scale;
        } else {
          const out = rt.f32(), y4 = y >> 2;
          for (let q = 0; q < t * outDim; q++) logits[start * outDim + q] = out[y4 + q];
        }
      }
    }
  };

  return {
    dims,
    bytes,
    forward(xs, xOff, n, logits, labels, labelsOff) {
      if (released) throw new Error('predictor used after release()');
      const widen = widens && n >= TILE;
      const base = rt.scratch(widen ? batchScratchBytes : scratchBytes);
      if (widen) {
        wide = base + WIDE;
        for (const write of toWide) write();
      }
      try {
        tiles(base, xs, xOff, n, logits, labels, labelsOff);
      } finally {
        wide = 0; // the scratch is shared: another model's call may overwrite it
      }
    },
    label(x) {
      if (released) throw new Error('predictor used after release()');
      const y = run(rt.scratch(scratchBytes), x, 1);
      // The argmax of the logits (first maximum, NaN never): int8-full's codes are monotone in its dequantized logits.
      let best = 0;
      if (codesIn) {
        const i8 = new Int8Array(rt.u8().buffer, y, outDim);
        for (let o = 1; o < outDim; o++) if (i8[o] > i8[best]) best = o;
      } else {
        const f32 = rt.f32(), y4 = y >> 2;
        let bv = -Infinity;
        for (let o = 0; o < outDim; o++) if (f32[y4 + o] > bv) { bv = f32[y4 + o]; best = o; }
      }
      return best;
    },
    release() {
      if (released) return;
      released = true;
      for (const p of allocations) rt.release(p);
    },
  };
}

const align = (n: number, to = 16) => Math.ceil(n / to) * to;

/**
 * [inDim, outDim] row-major → panels of PANEL columns (the last narrower), each [inDim × width]
 * row-major, one after another: the float kernels' layout (mlp-source.ts). Same values, same size.
 */
function panels<T extends Float32Array | Uint16Array>(w: T, inDim: number, outDim: number): T {
  const out = w.slice() as T;
  let at = 0;
  for (let ob = 0; ob < outDim; ob += PANEL) {
    const width = Math.min(PANEL, outDim - ob);
    for (let i = 0; i < inDim; i++, at += width) out.set(w.subarray(i * outDim + ob, i * outDim + ob + width), at);
  }
  return out;
}

/**
 * int8 weights in panels of PANEL columns, interleaved by input pairs within each:
 * panel[p][o][t] = W[2p + t][ob + o] (0 past the last input), the integer dot-product layout.
 */
function pairPanels(layer: Int8WeightsLayer, inDim: number, outDim: number): Int8Array {
  const pairs = Math.ceil(inDim / 2);
  const out = new Int8Array(pairs * outDim * 2);
  const w = layer.weights;
  let at = 0;
  for (let ob = 0; ob < outDim; ob += PANEL) {
    const width = Math.min(PANEL, outDim - ob);
    for (let i = 0; i < inDim; i++) {
      const base = at + (i >> 1) * width * 2 + (i & 1), row = i * outDim + ob;
      for (let o = 0; o < width; o++) out[base + 2 * o] = w[row + o];
    }
    at += pairs * width * 2;
  }
  return out;
}
