import { type Shape3, tensorShapes } from '../arch.ts';
import { layerDims, weightedOps } from '../arch-layers.ts';
import { addFloat, fillPatch, gapFloat, maxPool } from '../arch-kernels.ts';
import type { ArchDenseF32Model, ArchF16Model, ArchSparseF32Model } from '../types.ts';
import { fromCsrLayer } from '../convert.ts';
import { BLOCK } from './source.ts';
import type { WasmKernels } from './runtime.ts';
import { TILE } from './predictor.ts';

/** The float architecture kinds, which run on the WebAssembly dense kernels (int8 kinds stay on the JS kernels). */
export type WasmArchModelInput = ArchDenseF32Model | ArchF16Model | ArchSparseF32Model;

export interface WasmArchModel {
  readonly bytes: number;
  /** Logits of the HWC image at xs[off .. off + h·w·c) into out. */
  forward(xs: Float32Array, off: number, out: Float32Array): void;
  release(): void;
}

const size = (s: Shape3) => s[0] * s[1] * s[2];

/**
 * A convolution as im2col + the dense-layer kernels: the patches of all output positions are
 * written as the rows of a matrix [positions × k·k·c] in linear memory, and the dense kernel
 * multiplies them by the kernel matrix [k·k·c, filters] TILE rows at a time, so its output is
 * the HWC output tensor. The float kernels accumulate in float32 (see source.ts), so logits
 * differ from the float64 JS reference by rounding; pooling, add and global pooling are the JS
 * kernels, run over views of linear memory (they are a small part of the work).
 */
export function loadWasmArchModel(rt: WasmKernels, model: WasmArchModelInput): WasmArchModel {
  const { arch } = model;
  const shapes = tensorShapes(arch);
  const dims = layerDims(arch);
  const ops = weightedOps(arch);
  const layerOf = new Map(ops.map((op, l) => [op.name, l]));
  const allocations: number[] = [];
  const put = (a: ArrayBufferView) => { const p = rt.put(a); allocations.push(p); return p; };
  const k = rt.k;

  type Run = (x: number, n: number, y: number, relu: boolean) => void;
  let maxDim = 0;
  // The kernels' scratch lists, placed in the runtime's shared scratch at each forward().
  const scratch = { nz: 0, cnt: 0, tmp: 0 };
  const runs: Run[] = model.layers.map((layer, l) => {
    const [inDim, outDim] = dims[l];
    maxDim = Math.max(maxDim, inDim, outDim);
    const s = () => scratch;
    if (model.kind === 'sparse-f32') {
      const { rowPtr, colIdx, values, bias } = model.layers[l];
      const b = put(bias);
      if (rowPtr.byteLength + colIdx.byteLength + values.byteLength > inDim * outDim * 4) {
        // Low sparsity: the dense matrix is smaller and the dense kernel gives the CSR kernel's results (source.ts).
        const w = put(fromCsrLayer(model.layers[l], inDim, outDim));
        return (x, n, y, relu) => k.dense_f32(x, n, inDim, outDim, w, b, y, relu ? 1 : 0, s().nz, s().cnt, s().tmp);
      }
      const rp = put(rowPtr), col = put(colIdx), val = put(values);
      return (x, n, y, relu) => k.sparse_f32(x, n, inDim, outDim, rp, col, val, b, y, relu ? 1 : 0);
    }
    const { weights, bias } = layer as { weights: Float32Array | Uint16Array; bias: Float32Array };
    const w = put(weights), b = put(bias);
    const fn = model.kind === 'f16' ? k.dense_f16 : k.dense_f32;
    return (x, n, y, relu) => fn(x, n, inDim, outDim, w, b, y, relu ? 1 : 0, s().nz, s().cnt, s().tmp);
  });

  // Every tensor, the im2col matrix and the kernels' lists live in the runtime's one shared
  // scratch (rt.scratch: a forward pass runs synchronously, one at a time), at offsets fixed
  // here: a loaded model holds only its weights. (Each model's own buffers made a lenet5 run's
  // loaded predictors 9× the size of its model files.)
  let offset = 0;
  const place = (bytes: number) => { const at = offset; offset += Math.ceil(bytes / 16) * 16 + 16; return at; };
  const tensorAt = new Map<string, number>([...shapes].map(([name, s]) => [name, place(size(s) * 4)]));
  let im2colBytes = 4;
  for (const op of ops) {
    if (op.op === 'conv') {
      const [oh, ow] = shapes.get(op.output)!;
      im2colBytes = Math.max(im2colBytes, oh * ow * op.kernel * op.kernel * shapes.get(op.input)![2] * 4);
    }
  }
  const im2colAt = place(im2colBytes);
  const nzAt = place(TILE * maxDim * 8), cntAt = place(TILE * 4), tmpAt = place(Math.max(TILE * 8 + BLOCK * 4, maxDim * 4 + 16) + 64);
  const scratchBytes = offset;
  const bytes = allocations.reduce((a, p) => a + rt.sizeOf(p), 0);
  const inLen = size(arch.input);
  let released = false;

  return {
    bytes,
    forward(xs, off, out) {
      if (released) throw new Error('predictor used after release()');
      const base = rt.scratch(scratchBytes);
      const ptr = (name: string) => base + tensorAt.get(name)!;
      const im2col = base + im2colAt;
      scratch.nz = base + nzAt;
      scratch.cnt = base + cntAt;
      scratch.tmp = base + tmpAt;
      // No allocation happens below, so these views stay valid for the whole pass.
      const f32 = rt.f32();
      const view = (name: string) => { const p = ptr(name) / 4; return f32.subarray(p, p + size(shapes.get(name)!)); };
      f32.set(xs.subarray(off, off + inLen), ptr('input') / 4);
      for (const op of arch.ops) {
        const yPtr = ptr(op.output);
        switch (op.op) {
          case 'conv': {
            const [h, w, c] = shapes.get(op.input)!;
            const [oh, ow, F] = shapes.get(op.output)!;
            const inDim = op.kernel * op.kernel * c;
            const g = { h, w, c, kernel: op.kernel, stride: op.stride, padding: op.padding, oh, ow, filters: F };
            const x = view(op.input);
            const P = oh * ow;
            const cols = f32.subarray(im2col / 4, im2col / 4 + P * inDim);
            for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) fillPatch(x, 0, g, oy, ox, cols.subarray((oy * ow + ox) * inDim, (oy * ow + ox + 1) * inDim), 0);
            const run = runs[layerOf.get(op.name)!];
            for (let r = 0; r < P; r += TILE) run(im2col + r * inDim * 4, Math.min(TILE, P - r), yPtr + r * F * 4, op.relu);
            break;
          }
          case 'dense':
            runs[layerOf.get(op.name)!](ptr(op.input), 1, yPtr, op.relu);
            break;
          case 'maxpool': {
            const [h, w, c] = shapes.get(op.input)!;
            const [oh, ow] = shapes.get(op.output)!;
            maxPool(view(op.input), h, w, c, op.size, op.stride, oh, ow, view(op.output));
            break;
          }
          case 'add': {
            const y = view(op.output);
            addFloat(view(op.inputs[0]), view(op.inputs[1]), y.length, op.relu, y);
            break;
          }
          case 'gap': {
            const [h, w, c] = shapes.get(op.input)!;
            gapFloat(view(op.input), h * w, c, view(op.output));
            break;
          }
        }
      }
      out.set(view(arch.output));
    },
    release() {
      if (released) return;
      released = true;
      for (const p of allocations) rt.release(p);
    },
  };
}
