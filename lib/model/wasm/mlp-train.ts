/**
 * Training steps of a fully connected ReLU network on the project's WebAssembly kernels
 * (mlp-train-source.ts): weights, Adam moments, activations and gradients stay in the kernels'
 * linear memory from step to step; only a batch's rows go in and, for the softmax (1280 values at
 * batch 128), the logits come out and their gradient goes back.
 *
 * Layout of layer l (in → out inputs and outputs, out rounded up to a multiple of 4 = outPad):
 * parameters [in + 1, outPad] row-major — the weights, then the bias as row `in` (every forward
 * list ends with a 1 that picks it up, and the weight-gradient product gets a column of ones, so
 * the bias needs no pass of its own) — with Adam's m and v and the gradient in the same layout;
 * for l ≥ 1 also the weights transposed, [outPad, inPad], which the input gradient reads (a 4×4-tiled
 * copy after each update: 0.3 % of a step). Padding columns hold zeros, get zero gradients, and stay zero.
 *
 * Arithmetic: float32 throughout, sums in list order (inputs ascending, bias last; batch rows
 * ascending for the weight gradients); the softmax and its cross-entropy in float64 in JS. Adam
 * is tfjs-core's float32 arithmetic (trainer/adam.ts), but for subnormal moments and steps, which
 * are flushed to zero (mlp-train-source.ts says why).
 */
import type { MlpWeights } from '../types.ts';
import type { WasmKernels } from './runtime.ts';
import { EPILOGUE } from './mlp-train-source.ts';
import { pad4, readParams, setParamMask, sliceRows, softmaxCrossEntropy, WasmAdam, writeParams, type MlpAdamSettings, type ParamBlock } from './train-common.ts';

export type { MlpAdamSettings } from './train-common.ts';

interface Exports {
  mlp_gemm(lists: number, listStride: number, counts: number, n: number, b: number, outPad: number, y: number, yStride: number,
    mode: number, h: number, hStride: number, acc: number): void;
  mlp_row_lists(x: number, n: number, d: number, xStride: number, rowBytes: number, lists: number, listStride: number, counts: number, bias: number): void;
  mlp_col_lists(x: number, n: number, d: number, xStride: number, rowBytes: number, lists: number, listStride: number, counts: number, bias: number): void;
  mlp_transpose(p: number, rows: number, cols: number, t: number, tStride: number): void;
}

interface Layer extends ParamBlock {
  /** Weights transposed [outPad, pad4(inDim)] (layers after the first), else 0. */
  t: number;
  /** Output of the forward product [B, outPad] (a hidden layer's after its ReLU) and its gradient (before the ReLU). */
  y: number; dy: number;
}

export class WasmMlpTrainer {
  private readonly k: Exports;
  private readonly layers: Layer[];
  private readonly x: number;
  private readonly lists: number;
  private readonly counts: number;
  private readonly owned: number[] = [];
  private readonly inDim: number;
  private readonly classes: number;
  private readonly adam: WasmAdam;

  /** `init`: the starting weights (copied in); `batch`: examples per step. */
  constructor(private readonly kern: WasmKernels, init: MlpWeights, readonly batch: number, adam: MlpAdamSettings) {
    this.k = kern.k as unknown as Exports;
    const B = batch;
    const dims = init.dims;
    this.inDim = dims[0];
    this.classes = dims[dims.length - 1];
    const zeros = (floats: number) => {
      const ptr = kern.alloc(floats * 4);
      this.owned.push(ptr);
      kern.f32().fill(0, ptr >> 2, (ptr >> 2) + floats);
      return ptr;
    };
    this.layers = init.layers.map((l, i) => {
      const outPad = pad4(l.outDim), size = (l.inDim + 1) * outPad;
      return {
        inDim: l.inDim, outDim: l.outDim, outPad,
        p: zeros(size), g: zeros(size), m: zeros(size), v: zeros(size), mask: 0,
        t: i > 0 ? zeros(outPad * pad4(l.inDim)) : 0,
        y: zeros(B * outPad), dy: zeros(B * outPad),
      };
    });
    this.x = zeros(B * this.inDim);
    // Lists: forward rows (B × (in + 1) entries), weight-gradient columns ((in + 1) × B), input-gradient rows (B × outPad).
    const entries = Math.max(...this.layers.map((l) => Math.max(B * (l.inDim + 1), B * l.outPad)));
    this.lists = zeros(entries * 2);
    this.counts = zeros(Math.max(B, ...this.layers.map((l) => l.inDim + 1)));
    init.layers.forEach((l, i) => this.setLayer(i, l.weights, l.bias));
    this.adam = new WasmAdam(kern, adam);
  }

  /**
   * One step of Adam on the mean softmax cross-entropy of the examples `rows` of `images`
   * ([n, inDim] row-major) with `labels`; returns that loss (before the update).
   */
  step(images: Float32Array, labels: ArrayLike<number>, rows: ArrayLike<number>): number {
    const loss = this.forwardBackward(images, labels, rows, true);
    this.adam.advance();
    return loss;
  }

  /** The loss and the gradients of every layer at the current weights, nothing updated (for checks). */
  gradients(images: Float32Array, labels: ArrayLike<number>, rows: ArrayLike<number>): { loss: number; dW: Float32Array[]; db: Float32Array[] } {
    const loss = this.forwardBackward(images, labels, rows, false);
    return { loss, dW: this.layers.map((l) => this.read(l.g, l, false)), db: this.layers.map((l) => this.read(l.g, l, true)) };
  }

  /**
   * Prunes layer l from now on: weights where `mask` ([inDim, outDim], 1 keep / 0 prune) is 0
   * become 0 now and after every update.
   */
  setMask(l: number, mask: Float32Array): void {
    const L = this.layers[l];
    setParamMask(this.kern, L, mask, this.owned, `layer ${l}`, 'layer');
    this.transpose(L);
  }

  /** Layer l's weights [inDim, outDim] (a copy). */
  layerWeights(l: number): Float32Array {
    return this.read(this.layers[l].p, this.layers[l], false);
  }

  weights(): MlpWeights {
    return {
      dims: [this.inDim, ...this.layers.map((l) => l.outDim)],
      layers: this.layers.map((l) => ({ inDim: l.inDim, outDim: l.outDim, weights: this.read(l.p, l, false), bias: this.read(l.p, l, true) })),
    };
  }

  /** Gives the linear memory back; the trainer is unusable afterwards. */
  release(): void {
    for (const ptr of this.owned.splice(0)) this.kern.release(ptr);
  }

  private setLayer(l: number, weights: Float32Array, bias: Float32Array): void {
    writeParams(this.kern, this.layers[l], weights, bias);
    this.transpose(this.layers[l]);
  }

  /** Refreshes the transposed copy of a layer's weights (layers after the first). */
  private transpose(L: Layer): void {
    if (L.t) this.k.mlp_transpose(L.p, L.inDim, L.outPad, L.t, pad4(L.inDim) * 4);
  }

  private read(ptr: number, L: Layer, bias: boolean): Float32Array {
    return readParams(this.kern, ptr, L, bias);
  }

  private forwardBackward(images: Float32Array, labels: ArrayLike<number>, rows: ArrayLike<number>, update: boolean): number {
    const { k, layers, lists, counts, batch: B, inDim } = this;
    if (rows.length !== B) throw new Error(`a step takes ${B} rows, got ${rows.length}`);
    let f32 = this.kern.f32();
    for (let j = 0; j < B; j++) {
      const r = rows[j];
      f32.set(images.subarray(r * inDim, (r + 1) * inDim), (this.x >> 2) + j * inDim);
    }
    // The input of layer l and its row stride in bytes.
    const input = (l: number) => (l === 0 ? this.x : layers[l - 1].y);
    const inStride = (l: number) => (l === 0 ? inDim : layers[l - 1].outPad) * 4;

    for (let l = 0; l < layers.length; l++) {
      const L = layers[l];
      const rowBytes = L.outPad * 4, slice = sliceRows(L.inDim + 1, L.outPad);
      // Slices of the inputs, the bias row with the last; sums carried in y from slice to slice.
      for (let i0 = 0; i0 < L.inDim; i0 += slice) {
        const d = Math.min(slice, L.inDim - i0), last = i0 + d === L.inDim, listStride = (d + 1) * 8;
        k.mlp_row_lists(input(l) + i0 * 4, B, d, inStride(l), rowBytes, lists, listStride, counts, last ? 1 : 0);
        const epilogue = !last ? EPILOGUE.store : l < layers.length - 1 ? EPILOGUE.relu : EPILOGUE.store;
        k.mlp_gemm(lists, listStride, counts, B, L.p + i0 * rowBytes, L.outPad, L.y, rowBytes, epilogue, 0, 0, i0 > 0 ? 1 : 0);
      }
    }

    // Softmax cross-entropy, mean over the batch: dlogits = (softmax − onehot) / B.
    const last = layers[layers.length - 1];
    const C = this.classes, stride = last.outPad;
    f32 = this.kern.f32();
    const loss = softmaxCrossEntropy(f32, last.y >> 2, last.dy >> 2, stride, C, B, labels, rows);

    for (let l = layers.length - 1; l >= 0; l--) {
      const L = layers[l];
      const rowBytes = L.outPad * 4;
      if (l > 0) {
        // dZ_{l−1} = (dZ_l · W_lᵀ) ⊙ [A_{l−1} > 0], before W_l is updated.
        const P = layers[l - 1], inPadBytes = P.outPad * 4;
        k.mlp_row_lists(L.dy, B, L.outDim, rowBytes, inPadBytes, lists, L.outPad * 8, counts, 0);
        k.mlp_gemm(lists, L.outPad * 8, counts, B, L.t, P.outPad, P.dy, inPadBytes, EPILOGUE.maskPositive, P.y, inPadBytes, 0);
      }
      // [dW_l; db_l] = [A_{l−1} 1]ᵀ · dZ_l.
      k.mlp_col_lists(input(l), B, L.inDim, inStride(l), rowBytes, lists, B * 8, counts, 1);
      k.mlp_gemm(lists, B * 8, counts, L.inDim + 1, L.dy, L.outPad, L.g, rowBytes, EPILOGUE.store, 0, 0, 0);
      if (update) {
        this.adam.update(L);
        this.transpose(L);
      }
    }
    return loss / B;
  }
}
