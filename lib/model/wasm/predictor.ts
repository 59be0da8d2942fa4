import type { ClassArray } from '../../class-array.ts';
import type { Int8WeightsLayer, MlpCompactModel } from '../types.ts';
import { fromCsrLayer } from '../convert.ts';
import { BLOCK } from './source.ts';
import type { WasmKernels } from './runtime.ts';

/** Images per tile: each block of a layer's weights is read once per tile, then from cache. */
export const TILE = 16;

interface LayerPtrs {
  inDim: number;
  outDim: number;
  run: (x: number, n: number, y: number, relu: boolean, s: Scratch) => void;
}

interface Scratch { nz: number; cnt: number; tmp: number }

export interface WasmModel {
  readonly dims: readonly number[];
  /** Bytes of linear memory the model's arrays occupy (with alignment). */
  readonly bytes: number;
  /** Logits of n images (x: [n × dims[0]] floats) into out; labels too when asked. */
  forward(xs: Float32Array, xOff: number, n: number, logits: Float32Array | null, labels: ClassArray | null, labelsOff: number): void;
  release(): void;
}

/**
 * Copies a compact model into the kernels' linear memory, in the kernels' layout, and returns
 * its forward pass. Weights keep their compact type (f16 stays binary16, int8 stays int8; int8
 * is reordered by input pairs, same bytes). A CSR layer whose arrays would exceed the dense
 * float32 matrix (low sparsity) is stored dense instead: the values are the same, and the
 * dense kernel gives the CSR kernel's results bit for bit (see source.ts).
 */
export function loadWasmModel(rt: WasmKernels, model: MlpCompactModel): WasmModel {
  const dims = [...model.dims];
  const L = dims.length - 1;
  const allocations: number[] = [];
  const put = (a: ArrayBufferView) => { const p = rt.put(a); allocations.push(p); return p; };
  const layers: LayerPtrs[] = [];
  const k = rt.k;
  let codesIn = false; // int8-full: layers read and write int8 codes
  for (let l = 0; l < L; l++) {
    const inDim = dims[l], outDim = dims[l + 1];
    switch (model.kind) {
      case 'dense-f32':
      case 'f16': {
        const layer = model.layers[l];
        const w = put(layer.weights), b = put(layer.bias);
        const fn = model.kind === 'f16' ? k.dense_f16 : k.dense_f32;
        const row = model.kind === 'f16' ? k.row_f16 : k.row_f32;
        layers.push({
          inDim, outDim,
          run: (x, n, y, relu, s) => n === 1 ? row(x, inDim, outDim, w, b, y, relu ? 1 : 0, s.nz, s.tmp) : fn(x, n, inDim, outDim, w, b, y, relu ? 1 : 0, s.nz, s.cnt, s.tmp),
        });
        break;
      }
      case 'sparse-f32': {
        const { rowPtr, colIdx, values, bias } = model.layers[l];
        const b = put(bias);
        if (rowPtr.byteLength + colIdx.byteLength + values.byteLength > inDim * outDim * 4) {
          const w = put(fromCsrLayer(model.layers[l], inDim, outDim));
          layers.push({
            inDim, outDim,
            run: (x, n, y, relu, s) => n === 1 ? k.row_f32(x, inDim, outDim, w, b, y, relu ? 1 : 0, s.nz, s.tmp) : k.dense_f32(x, n, inDim, outDim, w, b, y, relu ? 1 : 0, s.nz, s.cnt, s.tmp),
          });
        } else {
          const rp = put(rowPtr), col = put(colIdx), val = put(values);
          layers.push({ inDim, outDim, run: (x, n, y, relu) => k.sparse_f32(x, n, inDim, outDim, rp, col, val, b, y, relu ? 1 : 0) });
        }
        break;
      }
      case 'int8-dynamic': {
        const layer = model.layers[l];
        const w = put(packPairs(layer, inDim, outDim)), sc = put(layer.weightScales), b = put(layer.bias);
        layers.push({ inDim, outDim, run: (x, n, y, relu, s) => k.int8_layer(0, x, n, inDim, outDim, w, sc, b, y, relu ? 1 : 0, 0, 0, 0, s.nz, s.cnt, s.tmp) });
        break;
      }
      case 'int8-full': {
        codesIn = true;
        const layer = model.layers[l];
        const sIn = model.activations[l].scale, sOut = model.activations[l + 1].scale;
        // M[o] = s_in · s_w[o] / s_out in float64, as in the JS kernel.
        const mult = Float64Array.from(layer.weightScales, (sw) => (sIn * sw) / sOut);
        const w = put(packPairs(layer, inDim, outDim)), m = put(mult), b = put(layer.bias);
        const zpIn = model.activations[l].zeroPoint, zpOut = model.activations[l + 1].zeroPoint;
        const lo = l === L - 1 ? -128 : zpOut;
        layers.push({ inDim, outDim, run: (x, n, y, _relu, s) => k.int8_layer(1, x, n, inDim, outDim, w, m, b, y, 0, zpIn, zpOut, lo, s.nz, s.cnt, s.tmp) });
        break;
      }
    }
  }
  const bytes = allocations.reduce((a, p) => a + rt.sizeOf(p), 0);
  const inDim = dims[0], outDim = dims[L];
  const maxDim = Math.max(...dims);
  const act0 = model.kind === 'int8-full' ? model.activations[0] : null;
  const actL = model.kind === 'int8-full' ? model.activations[L] : null;
  let released = false;

  return {
    dims,
    bytes,
    forward(xs, xOff, n, logits, labels, labelsOff) {
      if (released) throw new Error('predictor used after release()');
      const T = Math.min(TILE, n);
      // Scratch: input tile, two activation buffers, nonzero lists, counts, block tmp, labels.
      const xBytes = T * inDim * 4, hBytes = T * maxDim * 4;
      const nzBytes = T * maxDim * 8, cntBytes = T * 4, tmpBytes = Math.max(T * 8 + BLOCK * 4, maxDim * 4 + 16) + 64, labBytes = T * 2;
      const base = rt.scratch(xBytes + 2 * hBytes + nzBytes + cntBytes + tmpBytes + labBytes + 6 * 16);
      const at = [base];
      for (const size of [xBytes, hBytes, hBytes, nzBytes, cntBytes, tmpBytes]) at.push(align(at[at.length - 1] + size));
      const [X, H0, H1, NZ, CNT, TMP, LAB] = at;
      const s: Scratch = { nz: NZ, cnt: CNT, tmp: TMP };
      for (let start = 0; start < n; start += T) {
        const t = Math.min(T, n - start);
        const f32 = rt.f32();
        f32.set(xs.subarray(xOff + start * inDim, xOff + (start + t) * inDim), X / 4);
        let cur = X;
        if (act0) {
          k.quantize_input(X, t * inDim, act0.scale, act0.zeroPoint, H1);
          cur = H1;
        }
        for (let l = 0; l < L; l++) {
          const y = cur === H0 ? H1 : H0;
          layers[l].run(cur, t, y, l < L - 1, s);
          cur = y;
        }
        if (labels) {
          (codesIn ? k.argmax_i8 : k.argmax_f32)(cur, t, outDim, LAB);
          const u16 = new Uint16Array(rt.u8().buffer, LAB, t);
          for (let j = 0; j < t; j++) labels[labelsOff + start + j] = u16[j];
        }
        if (logits) {
          if (actL) {
            const i8 = new Int8Array(rt.u8().buffer, cur, t * outDim);
            for (let q = 0; q < t * outDim; q++) logits[start * outDim + q] = (i8[q] - actL.zeroPoint) * actL.scale;
          } else {
            logits.set(rt.f32().subarray(cur / 4, cur / 4 + t * outDim), start * outDim);
          }
        }
      }
    },
    release() {
      if (released) return;
      released = true;
      for (const p of allocations) rt.release(p);
    },
  };
}

const align = (n: number) => Math.ceil(n / 16) * 16;

/** packed[p][o][t] = W[2p + t][o] (0 past the last input): the int8 kernels' dot-product layout. */
function packPairs(layer: Int8WeightsLayer, inDim: number, outDim: number): Int8Array {
  const pairs = Math.ceil(inDim / 2);
  const out = new Int8Array(pairs * outDim * 2);
  const w = layer.weights;
  for (let i = 0; i < inDim; i++) {
    const base = (i >> 1) * outDim * 2 + (i & 1);
    const row = i * outDim;
    for (let o = 0; o < outDim; o++) out[base + 2 * o] = w[row + o];
  }
  return out;
}
