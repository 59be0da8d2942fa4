/**
 * What the two trainers on the WebAssembly kernels (mlp-train.ts, cnn-train.ts) share: the
 * parameter layout of a weight tensor and its bias, Adam's state, the softmax cross-entropy and the
 * slicing of forward products into L1-sized blocks.
 *
 * Layout of a tensor of `inDim` inputs and `outDim` outputs (outPad = outDim rounded up to a
 * multiple of 4): parameters [inDim + 1, outPad] row-major, the weights then the bias as row
 * `inDim`, with the gradient and Adam's m and v in the same layout. Padding columns hold zeros.
 */
import type { WasmKernels } from './runtime.ts';

export const pad4 = (n: number) => Math.ceil(n / 4) * 4;
const f = Math.fround;

/**
 * A forward product walks its right operand (the weights) once per example and block; a block
 * of LeNet-300-100's first layer is 785 rows × 44 floats, 138 KB, read from L2 each time. Split
 * into slices of inputs whose block fits in half of a 48 KB L1, the same sums took 1.09–1.13 ms
 * instead of 1.51 (first layer, batch 128, best of 100 runs each). Rows per slice: a multiple of
 * 4, slices of near-equal size. (The weight- and input-gradient products' right operands, dZ and
 * the transposed weights, have 128 and outPad rows: their blocks fit as they are.)
 */
const L1_BLOCK_BYTES = 24 * 1024;
export function sliceRows(rows: number, outPad: number): number {
  const nv = outPad / 4, widest = Math.ceil(nv / Math.ceil(nv / 12)) * 16;
  const slices = Math.ceil((rows * widest) / L1_BLOCK_BYTES);
  return pad4(Math.ceil(rows / slices));
}

/** A weight tensor and its bias in linear memory (byte addresses; see the file comment). */
export interface ParamBlock {
  inDim: number; outDim: number; outPad: number;
  p: number; g: number; m: number; v: number;
  /** Pruning mask in the parameters' layout (i32 lanes: −1 keeps, 0 prunes); 0 until the first mask. */
  mask: number;
}

/** Copies weights [inDim, outDim] and bias [outDim] into a block's parameters. */
export function writeParams(kern: WasmKernels, L: ParamBlock, weights: Float32Array, bias: Float32Array): void {
  const f32 = kern.f32();
  for (let i = 0; i < L.inDim; i++) f32.set(weights.subarray(i * L.outDim, (i + 1) * L.outDim), (L.p >> 2) + i * L.outPad);
  f32.set(bias, (L.p >> 2) + L.inDim * L.outPad);
}

/** Weights [inDim, outDim] (or the bias row) of a parameter-layout array at `ptr`, copied out. */
export function readParams(kern: WasmKernels, ptr: number, L: ParamBlock, bias: boolean): Float32Array {
  const f32 = kern.f32();
  if (bias) return f32.slice((ptr >> 2) + L.inDim * L.outPad, (ptr >> 2) + L.inDim * L.outPad + L.outDim);
  const out = new Float32Array(L.inDim * L.outDim);
  for (let i = 0; i < L.inDim; i++) out.set(f32.subarray((ptr >> 2) + i * L.outPad, (ptr >> 2) + i * L.outPad + L.outDim), i * L.outDim);
  return out;
}

/**
 * Prunes a block from now on: weights where `mask` ([inDim, outDim], 1 keep / 0 prune) is 0
 * become 0 now and after every update (mlp_adam applies the mask). The mask's memory is allocated
 * on first use and pushed to `owned`. Errors name the tensor `what`, a `noun` ('layer', 'kernel').
 */
export function setParamMask(kern: WasmKernels, L: ParamBlock, mask: Float32Array, owned: number[], what: string, noun: string): void {
  if (mask.length !== L.inDim * L.outDim) throw new Error(`mask of ${what} has ${mask.length} values, the ${noun} ${L.inDim * L.outDim}`);
  if (!L.mask) {
    L.mask = kern.alloc((L.inDim + 1) * L.outPad * 4);
    owned.push(L.mask);
    new Int32Array(kern.f32().buffer).fill(-1, L.mask >> 2, (L.mask >> 2) + (L.inDim + 1) * L.outPad);
  }
  const i32 = new Int32Array(kern.f32().buffer);
  for (let i = 0; i < L.inDim; i++) {
    const m = (L.mask >> 2) + i * L.outPad, p = (L.p >> 2) + i * L.outPad, src = i * L.outDim;
    for (let o = 0; o < L.outDim; o++) {
      // All ones or 0, and the weight's bits and-ed with it (+0 where pruned), without branches.
      const keep = -+(mask[src + o] !== 0);
      i32[m + o] = keep;
      i32[p + o] &= keep;
    }
  }
}

export interface MlpAdamSettings {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

interface AdamExports {
  mlp_adam(p: number, g: number, m: number, v: number, mask: number, n: number,
    b1: number, b2: number, omb1: number, omb2: number, c1: number, c2: number, lr: number, eps: number, tiny: number): void;
}

/** Adam on the kernels (mlp_adam): its constants and running β powers, float32 as tfjs-core keeps them (trainer/adam.ts). */
export class WasmAdam {
  private readonly k: AdamExports;
  private readonly b1: number; private readonly b2: number;
  private readonly omb1: number; private readonly omb2: number;
  private readonly lr: number; private readonly eps: number;
  /** Adam quotients below this make steps below 2⁻¹²⁶, which are not taken (mlp-train-source.ts). */
  private readonly tiny: number;
  private accBeta1: number; private accBeta2: number;

  constructor(kern: WasmKernels, adam: MlpAdamSettings) {
    this.k = kern.k as unknown as AdamExports;
    this.b1 = f(adam.beta1 ?? 0.9);
    this.b2 = f(adam.beta2 ?? 0.999);
    this.omb1 = f(1 - (adam.beta1 ?? 0.9));
    this.omb2 = f(1 - (adam.beta2 ?? 0.999));
    this.lr = f(-adam.learningRate);
    this.eps = f(adam.epsilon ?? 1e-7);
    this.tiny = f(2 ** -126 / adam.learningRate);
    this.accBeta1 = this.b1;
    this.accBeta2 = this.b2;
  }

  /** Updates a block's parameters from its gradient, at the current step. */
  update(L: ParamBlock): void {
    this.k.mlp_adam(L.p, L.g, L.m, L.v, L.mask, (L.inDim + 1) * L.outPad, this.b1, this.b2, this.omb1, this.omb2,
      f(1 - this.accBeta1), f(1 - this.accBeta2), this.lr, this.eps, this.tiny);
  }

  /** Moves on to the next step (after every block's update). */
  advance(): void {
    this.accBeta1 = f(this.accBeta1 * this.b1);
    this.accBeta2 = f(this.accBeta2 * this.b2);
  }
}

/**
 * Softmax cross-entropy of a batch's logits (row b at float index z0 + b·stride, C classes),
 * labels[rows[b]] the true classes: writes dlogits = (softmax − onehot) / B at d0 + b·stride and
 * returns the summed loss. Float64 in JS.
 */
export function softmaxCrossEntropy(
  f32: Float32Array, z0: number, d0: number, stride: number, C: number, B: number, labels: ArrayLike<number>, rows: ArrayLike<number>,
): number {
  let loss = 0;
  for (let b = 0; b < B; b++) {
    const z = z0 + b * stride, d = d0 + b * stride;
    let max = -Infinity;
    for (let j = 0; j < C; j++) max = Math.max(max, f32[z + j]);
    let sum = 0;
    for (let j = 0; j < C; j++) sum += Math.exp(f32[z + j] - max);
    const y = labels[rows[b]];
    loss += Math.log(sum) + max - f32[z + y];
    for (let j = 0; j < C; j++) f32[d + j] = (Math.exp(f32[z + j] - max) / sum - (j === y ? 1 : 0)) / B;
  }
  return loss;
}
