/**
 * Training of convolutional architectures (lib/model/arch.ts) with a hand-written backward pass,
 * on one of two paths (CnnPath, same init, data order and pruning schedule):
 * - 'kernels': LeNet-5 and its kin on the project's WebAssembly kernels, the whole step in linear
 *   memory (lib/model/wasm/cnn-train.ts, as the MLP's mlp-train.ts) — on the tfjs path below a
 *   LeNet-5 step reached a fifth to a quarter of the MLP kernels' GFLOP/s;
 * - 'tfjs': every architecture (ResNets: BatchNorm, strided convs, residual adds) and native
 *   TensorFlow, on the engine's ops (ArchNet), as follows.
 *
 * Why by hand: the wasm engine has no Conv2DBackpropFilter, its Conv2DBackpropInput, MaxPoolGrad
 * and Conv3DBackpropFilterV2 are 5–10× slower than what follows, and only a plain matMul (no
 * transpose flags) is fast there (see train.ts). So every heavy step is a forward kernel:
 * - forward: tf.fused.conv2d with bias and ReLU, tf.maxPool, tf.fused.matMul;
 * - stride-1 conv gradients: the weight and bias gradients in the project's own wasm SIMD kernel
 *   (lib/model/wasm/train.ts: register-blocked sums over the activations as they are, no patch
 *   matrix), the input gradient a forward conv of dz by the flipped kernel (convBackward);
 *   strided convs keep im2colT → colsᵀ·dZ and dZ·Wᵀ → col2im;
 * - the optimizer is one JS pass per tensor (adam.ts).
 * Activations stay engine tensors from op to op; JS loops remain for the max-pool gradient,
 * BatchNorm, residual adds and the softmax. Measured on wasm in one process (lenet5, batch 128):
 * 2.2× the examples/s of the first version (im2col/col2im and JS glue around tf.conv2d).
 *
 * Tensors are HWC per image; a batch of B images is [B, h, w, c] row-major, i.e. a matrix
 * [B·h·w, c] — the matMul view of a conv output.
 *
 * BatchNorm: batch statistics in training (biased variance for the normalisation), running
 * averages for inference: mean ← 0.9·mean + 0.1·batch mean, variance likewise with the unbiased
 * batch variance (torch.nn.BatchNorm2d's rule). Pruning treats the unfolded conv kernel as the
 * prunable tensor; BatchNorm is folded at conversion (lib/model/arch-weights.ts foldBatchNorm),
 * which keeps zeros zero.
 */
import * as tf from '@tensorflow/tfjs-core';
import { classBytesFor, newClassArray, type ClassArray } from '../lib/class-array.ts';
import { type Architecture, BATCH_NORM_EPSILON, type Op, paramSpecs, tensorShapes } from '../lib/model/arch.ts';
import type { ArchWeights } from '../lib/model/arch-weights.ts';
import { mulberry32 } from '../lib/random.ts';
import { conv2dGradients } from '../lib/model/wasm/train.ts';
import { wasmKernels, type WasmKernels } from '../lib/model/wasm/runtime.ts';
import { cnnKernelsUnsupported, WasmCnnTrainer } from '../lib/model/wasm/cnn-train.ts';
import { FusedAdam } from './adam.ts';
import { magnitudeMask, measuredSparsity, type PruningSchedule } from './pruning.ts';
import { runPruningLoop, type MemberSpec, type StepState, type Stepper, type TrainData } from './train.ts';

export interface CnnMemberSpec extends Omit<MemberSpec, 'dims'> {
  arch: Architecture;
}

export interface TrainedCnnMember {
  weights: ArchWeights;
  steps: number;
  examples: number;
  seconds: number;
  finalLoss: number;
  schedule: PruningSchedule | null;
  /** Measured fraction of exact zeros per prunable tensor, in `prunable` order. */
  layerSparsity: number[];
  /** Names of the prunable tensors (conv and dense kernels), in paramSpecs order. */
  prunable: string[];
}

/** Running averages of BatchNorm keep this much of their old value per step. */
export const BATCH_NORM_MOMENTUM = 0.9;

/**
 * Seeded init, one mulberry32 stream over paramSpecs in order: conv kernels He-uniform
 * (limit √(6/fan_in), fan_in = k·k·in: they feed ReLUs), dense kernels Glorot-uniform as the MLP,
 * biases and BatchNorm β and mean 0, γ and variance 1.
 */
export function initArchWeights(arch: Architecture, seed: number): ArchWeights {
  const rand = mulberry32(seed);
  const params: Record<string, Float32Array> = {};
  for (const { name, shape } of paramSpecs(arch)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const p = new Float32Array(n);
    if (name.endsWith('.kernel')) {
      const limit = shape.length === 4
        ? Math.sqrt(6 / (shape[0] * shape[1] * shape[2]))
        : Math.sqrt(6 / (shape[0] + shape[1]));
      for (let i = 0; i < n; i++) p[i] = (rand() * 2 - 1) * limit;
    } else if (name.endsWith('.gamma') || name.endsWith('.variance')) {
      p.fill(1);
    }
    params[name] = p;
  }
  return { arch, params };
}

type ConvOp = Extract<Op, { op: 'conv' }>;

interface ConvGeom { h: number; w: number; c: number; k: number; stride: number; pad: number; oh: number; ow: number }

/**
 * The transposed patch matrix [k·k·c, B·oh·ow] straight from [B, h, w, c] (im2col's transpose,
 * row (ky·k + kx)·c + ci): what the weight gradient colsᵀ·dZ needs, with no [M, K] copy between.
 * `into`: a buffer from an earlier call with the same geometry; its padding entries are zero and
 * never written, so reusing it needs no clearing.
 */
export function im2colT(x: Float32Array, B: number, g: ConvGeom, into?: Float32Array): Float32Array {
  const { h, w, c, k, stride, pad, oh, ow } = g;
  const M = B * oh * ow, K = k * k * c;
  const out = into?.length === M * K ? into : new Float32Array(M * K);
  for (let ky = 0; ky < k; ky++) {
    for (let kx = 0; kx < k; kx++) {
      // Output columns whose input pixel is inside the image along x.
      const ox0 = Math.max(0, Math.ceil((pad - kx) / stride)), ox1 = Math.min(ow, Math.floor((w - 1 + pad - kx) / stride) + 1);
      for (let ci = 0; ci < c; ci++) {
        const rowBase = ((ky * k + kx) * c + ci) * M;
        for (let b = 0; b < B; b++) {
          for (let oy = 0; oy < oh; oy++) {
            const iy = oy * stride - pad + ky;
            if (iy < 0 || iy >= h) continue;
            const dst = rowBase + (b * oh + oy) * ow;
            const src = ((b * h + iy) * w) * c + ci;
            for (let ox = ox0; ox < ox1; ox++) out[dst + ox] = x[src + (ox * stride - pad + kx) * c];
          }
        }
      }
    }
  }
  return out;
}

/** The adjoint of im2col: sums patch gradients [B·oh·ow, k·k·c] (column (ky·k + kx)·c + ci) back into [B, h, w, c]. */
export function col2im(dcols: Float32Array, B: number, g: ConvGeom): Float32Array {
  const { h, w, c, k, stride, pad, oh, ow } = g;
  if (k === 1 && stride === 1 && pad === 0) return dcols;
  const K = k * k * c;
  const dx = new Float32Array(B * h * w * c);
  let row = 0;
  for (let b = 0; b < B; b++) {
    const xb = b * h * w * c;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, row += K) {
        for (let ky = 0; ky < k; ky++) {
          const iy = oy * stride - pad + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < k; kx++) {
            const ix = ox * stride - pad + kx;
            if (ix < 0 || ix >= w) continue;
            const dst = xb + (iy * w + ix) * c;
            const src = row + (ky * k + kx) * c;
            for (let ci = 0; ci < c; ci++) dx[dst + ci] += dcols[src + ci];
          }
        }
      }
    }
  }
  return dx;
}

/**
 * The gradient of max pooling: each output's dy goes to the first input of its window (in
 * row-major window order) equal to the output, i.e. to tfjs's argmax. The forward pass is
 * tf.maxPool (XNNPACK on wasm: measured 0.6 ms against 3.2 ms for an argmax-recording loop in JS
 * here, lenet5's first pool at batch 128); this search costs about what that loop did.
 */
function maxPoolBackward(x: Float32Array, y: Float32Array, dy: Float32Array, B: number, h: number, w: number, c: number, oh: number, ow: number, size: number, stride: number, positiveOnly: boolean): Float32Array {
  const dx = new Float32Array(x.length);
  const rowStep = w * c;
  // positiveOnly: x is a ReLU's output read by this pool alone, so a window whose maximum is 0
  // passes no gradient (the ReLU would zero it): skipped here, and the ReLU's mask with it.
  const floor = positiveOnly ? 0 : -Infinity;
  let o = 0;
  if (size === 2 && stride === 2) {
    for (let b = 0; b < B; b++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          const base = ((b * h + oy * 2) * w + ox * 2) * c;
          for (let ci = 0; ci < c; ci++, o++) {
            const yo = y[o], i0 = base + ci;
            if (!(yo > floor)) continue;
            const i = x[i0] === yo ? i0 : x[i0 + c] === yo ? i0 + c : x[i0 + rowStep] === yo ? i0 + rowStep : i0 + rowStep + c;
            dx[i] += dy[o];
          }
        }
      }
    }
    return dx;
  }
  const offsets = new Int32Array(size * size);
  for (let py = 0; py < size; py++) for (let px = 0; px < size; px++) offsets[py * size + px] = py * rowStep + px * c;
  for (let b = 0; b < B; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const base = ((b * h + oy * stride) * w + ox * stride) * c;
        for (let ci = 0; ci < c; ci++, o++) {
          const yo = y[o];
          if (!(yo > floor)) continue;
          for (let t = 0; t < offsets.length; t++) {
            const i = base + offsets[t] + ci;
            if (x[i] === yo) { dx[i] += dy[o]; break; }
          }
        }
      }
    }
  }
  return dx;
}

/** dy where the ReLU's output y is positive, else 0. */
function reluBackward(dy: Float32Array, y: Float32Array): Float32Array {
  const dz = new Float32Array(dy.length);
  // A multiply, not a branch: the sign of a ReLU's output is a coin flip the branch predictor
  // loses (measured here: 2.5× faster on random signs).
  for (let i = 0; i < dy.length; i++) dz[i] = dy[i] * +(y[i] > 0);
  return dz;
}

/**
 * Adds d into the gradient held for `name`; the first d becomes the held array and later ones are
 * added into it, so pass an array nothing else reads (a kernel's output read back, used once, is one).
 */
function accumulate(map: Map<string, Float32Array>, name: string, d: Float32Array): void {
  const prev = map.get(name);
  if (!prev) { map.set(name, d); return; }
  for (let i = 0; i < d.length; i++) prev[i] += d[i];
}

/** The trainable state of one member: kernels, biases, γ, β as tfjs variables; running stats in JS. */
class ArchNet {
  readonly shapes: ReturnType<typeof tensorShapes>;
  readonly vars = new Map<string, tf.Variable>();
  /** BatchNorm running mean and variance, by `name.mean` / `name.variance`. */
  readonly running = new Map<string, Float32Array>();
  /** Transposed im2col buffers by conv name, reused from step to step (tfjs copies them into tensors). */
  private readonly colsTBuffers = new Map<string, Float32Array>();

  /**
   * ReLU outputs that one max pool alone reads: that pool's gradient passes nothing through a
   * window whose maximum is 0, which is the ReLU's mask, so the ReLU's own backward is skipped.
   */
  private readonly reluOnlyPooled = new Set<string>();
  /** The project's WebAssembly kernels: stride-1 conv weight gradients run there. */
  private readonly kernels: WasmKernels;

  constructor(readonly arch: Architecture, init: ArchWeights, tag: string) {
    const kernels = wasmKernels();
    if (!kernels) throw new Error('CNN training needs the WebAssembly kernels installed first (installNodeKernels in node/wasm-kernels.ts)');
    this.kernels = kernels;
    this.shapes = tensorShapes(arch);
    const readers = new Map<string, number>();
    for (const o of arch.ops) for (const t of o.op === 'add' ? o.inputs : [o.input]) readers.set(t, (readers.get(t) ?? 0) + 1);
    const relu = new Set(arch.ops.filter((o) => 'relu' in o && o.relu).map((o) => o.output));
    for (const o of arch.ops) if (o.op === 'maxpool' && relu.has(o.input) && readers.get(o.input) === 1) this.reluOnlyPooled.add(o.input);
    for (const { name, shape } of paramSpecs(arch)) {
      if (name.endsWith('.mean') || name.endsWith('.variance')) {
        this.running.set(name, init.params[name].slice());
      } else {
        this.vars.set(name, tf.variable(tf.tensor(init.params[name], shape), true, `${name}@${tag}`));
      }
    }
  }

  /** Values of a variable (a copy). */
  read(name: string): Float32Array {
    return (this.vars.get(name)!.dataSync() as Float32Array).slice();
  }

  weights(): ArchWeights {
    const params: Record<string, Float32Array> = {};
    for (const { name } of paramSpecs(this.arch)) params[name] = this.running.get(name)?.slice() ?? this.read(name);
    return { arch: this.arch, params };
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
  }

  /**
   * One forward and backward pass in training mode over a batch: xs [B, h, w, c], labels [B].
   * Returns the mean softmax cross-entropy and the gradients by variable name (tensors owned by
   * the caller's tidy scope). Updates the BatchNorm running averages when `updateRunning`.
   */
  gradients(xs: Float32Array, labels: ArrayLike<number>, B: number, updateRunning: boolean): { loss: number; grads: Record<string, tf.Tensor> } {
    const { arch, shapes } = this;
    const acts = new Map<string, Float32Array>([['input', xs]]);
    // The same activations as engine tensors where an op produced one: the next op reads it
    // without an upload.
    const tens = new Map<string, tf.Tensor>();
    const tensorOf = (name: string, shape: number[]) => { const t = tens.get(name); return t ? tf.reshape(t, shape) : tf.tensor(acts.get(name)!, shape); };
    type Cache =
      | { op: ConvOp; g: ConvGeom; cols: Float32Array; xhat?: Float32Array; invStd?: Float32Array }
      | { op: Extract<Op, { op: 'dense' }>; x: tf.Tensor2D; inDim: number }
      | { op: Op };
    const caches: Cache[] = [];
    // ReLU outputs whose mask a max pool's gradient has applied (see reluOnlyPooled).
    const reluMasked = new Set<string>();

    for (const op of arch.ops) {
      const inS = shapes.get(op.op === 'add' ? op.inputs[0] : op.input)!;
      const outS = shapes.get(op.output)!;
      switch (op.op) {
        case 'conv': {
          const g: ConvGeom = { h: inS[0], w: inS[1], c: inS[2], k: op.kernel, stride: op.stride, pad: op.padding, oh: outS[0], ow: outS[1] };
          const K = g.k * g.k * g.c, F = op.filters, M = B * g.oh * g.ow;
          const xin = acts.get(op.input)!; // for im2colT, should this conv be strided
          const x4 = tensorOf(op.input, [B, g.h, g.w, g.c]) as tf.Tensor4D, filter = this.vars.get(`${op.name}.kernel`) as tf.Tensor4D;
          // Without BatchNorm, bias and ReLU are fused into the engine's conv (XNNPACK on wasm).
          // Its output is a fresh copy out of the engine: BatchNorm below writes into it.
          const zT = op.batchNorm
            ? tf.conv2d(x4, filter, op.stride, op.padding)
            : tf.fused.conv2d({ x: x4, filter, strides: op.stride, pad: op.padding, bias: this.vars.get(`${op.name}.bias`)!, activation: op.relu ? 'relu' : 'linear' });
          if (!op.batchNorm) tens.set(op.output, zT);
          const z = zT.dataSync() as Float32Array;
          const y = op.batchNorm ? new Float32Array(M * F) : z;
          const cache: Cache = { op, g, cols: xin };
          if (op.batchNorm) {
            const gamma = this.vars.get(`${op.name}.gamma`)!.dataSync() as Float32Array;
            const beta = this.vars.get(`${op.name}.beta`)!.dataSync() as Float32Array;
            const mean = new Float64Array(F), sq = new Float64Array(F);
            for (let r = 0; r < M; r++) for (let f = 0; f < F; f++) mean[f] += z[r * F + f];
            for (let f = 0; f < F; f++) mean[f] /= M;
            for (let r = 0; r < M; r++) for (let f = 0; f < F; f++) { const d = z[r * F + f] - mean[f]; sq[f] += d * d; }
            const invStd = new Float32Array(F);
            for (let f = 0; f < F; f++) invStd[f] = 1 / Math.sqrt(sq[f] / M + BATCH_NORM_EPSILON);
            const xhat = new Float32Array(M * F);
            for (let r = 0; r < M; r++) {
              for (let f = 0; f < F; f++) {
                const i = r * F + f;
                xhat[i] = (z[i] - mean[f]) * invStd[f];
                y[i] = gamma[f] * xhat[i] + beta[f];
              }
            }
            cache.xhat = xhat;
            cache.invStd = invStd;
            if (updateRunning) {
              const rm = this.running.get(`${op.name}.mean`)!, rv = this.running.get(`${op.name}.variance`)!;
              for (let f = 0; f < F; f++) {
                rm[f] = BATCH_NORM_MOMENTUM * rm[f] + (1 - BATCH_NORM_MOMENTUM) * mean[f];
                rv[f] = BATCH_NORM_MOMENTUM * rv[f] + (1 - BATCH_NORM_MOMENTUM) * (sq[f] / Math.max(1, M - 1));
              }
            }
            if (op.relu) for (let i = 0; i < y.length; i++) if (y[i] < 0) y[i] = 0;
          }
          acts.set(op.output, y);
          caches.push(cache);
          break;
        }
        case 'dense': {
          const inDim = inS[0] * inS[1] * inS[2], U = op.units;
          const x = tensorOf(op.input, [B, inDim]) as tf.Tensor2D;
          const yT = tf.fused.matMul({
            a: x, b: this.vars.get(`${op.name}.kernel`)! as tf.Tensor2D, bias: this.vars.get(`${op.name}.bias`)!, activation: op.relu ? 'relu' : 'linear',
          });
          tens.set(op.output, yT);
          acts.set(op.output, yT.dataSync() as Float32Array);
          caches.push({ op, x, inDim });
          break;
        }
        case 'maxpool': {
          const [h, w, c] = inS;
          const yT = tf.maxPool(tensorOf(op.input, [B, h, w, c]) as tf.Tensor4D, op.size, op.stride, 'valid');
          tens.set(op.output, yT);
          acts.set(op.output, yT.dataSync() as Float32Array);
          caches.push({ op });
          break;
        }
        case 'add': {
          const a = acts.get(op.inputs[0])!, bb = acts.get(op.inputs[1])!;
          const y = new Float32Array(a.length);
          for (let i = 0; i < y.length; i++) { const v = a[i] + bb[i]; y[i] = op.relu && v < 0 ? 0 : v; }
          acts.set(op.output, y);
          caches.push({ op });
          break;
        }
        case 'gap': {
          const hw = inS[0] * inS[1], c = inS[2];
          const x = acts.get(op.input)!;
          const y = new Float32Array(B * c);
          for (let b = 0; b < B; b++) {
            for (let p = 0; p < hw; p++) for (let ci = 0; ci < c; ci++) y[b * c + ci] += x[(b * hw + p) * c + ci];
            for (let ci = 0; ci < c; ci++) y[b * c + ci] /= hw;
          }
          acts.set(op.output, y);
          caches.push({ op });
          break;
        }
      }
    }

    // Softmax cross-entropy, mean over the batch: dlogits = (softmax − onehot) / B.
    const classes = arch.classes;
    const logits = acts.get(arch.output)!;
    const dlogits = new Float32Array(B * classes);
    let loss = 0;
    for (let b = 0; b < B; b++) {
      let max = -Infinity;
      for (let j = 0; j < classes; j++) max = Math.max(max, logits[b * classes + j]);
      let sum = 0;
      for (let j = 0; j < classes; j++) sum += Math.exp(logits[b * classes + j] - max);
      const y = labels[b];
      loss += Math.log(sum) + max - logits[b * classes + y];
      for (let j = 0; j < classes; j++) {
        dlogits[b * classes + j] = (Math.exp(logits[b * classes + j] - max) / sum - (j === y ? 1 : 0)) / B;
      }
    }
    loss /= B;

    const dacts = new Map<string, Float32Array>([[arch.output, dlogits]]);
    const grads: Record<string, tf.Tensor> = {};
    for (let i = caches.length - 1; i >= 0; i--) {
      const cache = caches[i];
      const op = cache.op;
      const dy = dacts.get(op.output);
      if (!dy) continue; // a tensor nothing reads
      dacts.delete(op.output);
      const y = acts.get(op.output)!;
      switch (op.op) {
        case 'conv': {
          const { g, cols, xhat, invStd } = cache as Extract<Cache, { g: ConvGeom }>;
          const K = g.k * g.k * g.c, F = op.filters, M = B * g.oh * g.ow;
          if (!op.batchNorm) {
            // Through the ReLU (y > 0 exactly where its input was), then the bias and both
            // convolution gradients.
            const dz = op.relu && !reluMasked.has(op.output) ? reluBackward(dy, y) : dy;
            this.convBackward(op, g, cols, dz, M, K, F, B, grads, dacts, true);
            break;
          }
          const dz = op.relu && !reluMasked.has(op.output) ? reluBackward(dy, y) : dy;
          {
            // dγ = Σ dy·x̂, dβ = Σ dy, dz = γ/σ · (dy − dβ/M − x̂·dγ/M).
            const gamma = this.vars.get(`${op.name}.gamma`)!.dataSync() as Float32Array;
            const dgamma = new Float64Array(F), dbeta = new Float64Array(F);
            for (let r = 0; r < M; r++) for (let f = 0; f < F; f++) { const j = r * F + f; dgamma[f] += dz[j] * xhat![j]; dbeta[f] += dz[j]; }
            const dpre = new Float32Array(M * F);
            for (let r = 0; r < M; r++) {
              for (let f = 0; f < F; f++) {
                const j = r * F + f;
                dpre[j] = gamma[f] * invStd![f] * (dz[j] - dbeta[f] / M - xhat![j] * dgamma[f] / M);
              }
            }
            grads[`${op.name}.gamma`] = tf.tensor1d(Float32Array.from(dgamma));
            grads[`${op.name}.beta`] = tf.tensor1d(Float32Array.from(dbeta));
            this.convBackward(op, g, cols, dpre, M, K, F, B, grads, dacts, false);
          }
          break;
        }
        case 'dense': {
          const { x, inDim } = cache as Extract<Cache, { inDim: number }>;
          const U = op.units;
          const dz = op.relu ? reluBackward(dy, y) : dy;
          const dbias = new Float32Array(U);
          for (let r = 0; r < B; r++) for (let u = 0; u < U; u++) dbias[u] += dz[r * U + u];
          const dZ = tf.tensor2d(dz, [B, U]);
          // dW = xᵀ dZ and dx = dZ Wᵀ, each a plain matMul of explicitly transposed operands.
          grads[`${op.name}.kernel`] = tf.matMul(tf.transpose(x), dZ);
          grads[`${op.name}.bias`] = tf.tensor1d(dbias);
          if (op.input !== 'input') {
            const dx = tf.matMul(dZ, tf.transpose(this.vars.get(`${op.name}.kernel`)!)).dataSync() as Float32Array;
            accumulate(dacts, op.input, dx);
          }
          break;
        }
        case 'maxpool': {
          const [h, w, c] = shapes.get(op.input)!, [oh, ow] = shapes.get(op.output)!;
          const positiveOnly = this.reluOnlyPooled.has(op.input);
          if (positiveOnly) reluMasked.add(op.input);
          accumulate(dacts, op.input, maxPoolBackward(acts.get(op.input)!, y, dy, B, h, w, c, oh, ow, op.size, op.stride, positiveOnly));
          break;
        }
        case 'add': {
          const dz = op.relu ? reluBackward(dy, y) : dy;
          accumulate(dacts, op.inputs[0], dz.slice());
          accumulate(dacts, op.inputs[1], dz.slice());
          break;
        }
        case 'gap': {
          const inS = shapes.get(op.input)!;
          const hw = inS[0] * inS[1], c = inS[2];
          const dx = new Float32Array(B * hw * c);
          for (let b = 0; b < B; b++) for (let p = 0; p < hw; p++) for (let ci = 0; ci < c; ci++) dx[(b * hw + p) * c + ci] = dy[b * c + ci] / hw;
          accumulate(dacts, op.input, dx);
          break;
        }
      }
    }
    return { loss, grads };
  }

  /** The kernel's (and with `bias`, the bias's) gradient from dz [B, oh, ow, F]; dx into dacts unless the input is the image. */
  private convBackward(
    op: ConvOp, g: ConvGeom, x: Float32Array, dzJs: Float32Array, M: number, K: number, F: number, B: number,
    grads: Record<string, tf.Tensor>, dacts: Map<string, Float32Array>, bias: boolean,
  ): void {
    const kernel = this.vars.get(`${op.name}.kernel`)!;
    const { k, pad } = g;
    if (op.stride === 1) {
      // dW and db in the project's wasm kernel (lib/model/wasm/train.ts), from the activations
      // as they are. Measured on wasm in one process (lenet5, batch 128, dW and db, medians of
      // 15): conv1 2.9 ms and conv2 2.9 ms, against 8.5 and 5.1 for dW as a forward conv of the
      // input with the batch as its channels by dz as the kernel (XNNPACK, transposes included)
      // plus tf.sum for db.
      const { dW, db } = conv2dGradients(this.kernels, x, dzJs, B, g, F);
      grads[`${op.name}.kernel`] = tf.tensor(dW, kernel.shape);
      if (bias) grads[`${op.name}.bias`] = tf.tensor1d(db);
      if (op.input === 'input') return; // nothing upstream to train
      // dx = the "full" convolution of dz with the kernel flipped in space and its channels
      // swapped ([k, k, F, c]), padding k−1−p: 9 ms against 17 ms for dZ·Wᵀ + col2im here.
      const flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
      const dx = tf.conv2d(tf.tensor4d(dzJs, [B, g.oh, g.ow, F]), flipped, 1, k - 1 - pad).dataSync() as Float32Array;
      accumulate(dacts, op.input, dx);
      return;
    }
    const dz = tf.tensor4d(dzJs, [B, g.oh, g.ow, F]);
    if (bias) grads[`${op.name}.bias`] = tf.sum(dz, [0, 1, 2]);
    // Strided convs: dW [K, F] = colsᵀ dZ, a plain matMul with the big patch matrix transposed in
    // JS on the left (measured on wasm: 2–5× faster than dZᵀ·cols or a tfjs transpose); dcols
    // [M, K] = dZ Wᵀ, then col2im.
    const colsT = im2colT(x, B, g, this.colsTBuffers.get(op.name));
    this.colsTBuffers.set(op.name, colsT);
    const dZ = tf.reshape(dz, [M, F]) as tf.Tensor2D;
    grads[`${op.name}.kernel`] = tf.reshape(tf.matMul(tf.tensor2d(colsT, [K, M]), dZ), kernel.shape);
    if (op.input === 'input') return;
    const dcols = tf.matMul(dZ, tf.transpose(tf.reshape(kernel, [K, F]))).dataSync() as Float32Array;
    const dx = col2im(dcols, B, g);
    accumulate(dacts, op.input, dx === dcols ? dx.slice() : dx);
  }
}

/** Where a CNN trains: the project's WebAssembly kernels (lib/model/wasm/cnn-train.ts), or tfjs ops on the engine. */
export type CnnPath = 'kernels' | 'tfjs';

/**
 * The kernels for the architectures they cover (LeNet-5 and its kin: cnnKernelsUnsupported) on
 * every engine but native TensorFlow, whose ops run on the GPU or in threaded native code (as
 * train.ts defaultMlpPath); ResNets (BatchNorm, strided convs, residual adds) on tfjs ops.
 */
export function defaultCnnPath(arch: Architecture): CnnPath {
  return tf.getBackend() === 'tensorflow' || cnnKernelsUnsupported(arch) ? 'tfjs' : 'kernels';
}

/**
 * The loss and gradients of the hand-written pass for one batch (training mode: BatchNorm on
 * batch statistics), for tests and checks. Gradients of `mean`/`variance` are not defined.
 */
export function archGradients(
  weights: ArchWeights, xs: Float32Array, labels: ArrayLike<number>, B: number, path: CnnPath = defaultCnnPath(weights.arch),
): { loss: number; grads: Record<string, Float32Array> } {
  if (path === 'kernels') {
    const net = new WasmCnnTrainer(needKernels(), weights.arch, weights, B, { learningRate: 1e-3 });
    try {
      return net.gradients(xs, labels, Int32Array.from({ length: B }, (_, i) => i));
    } finally {
      net.release();
    }
  }
  const net = new ArchNet(weights.arch, weights, `grad${uid++}`);
  try {
    return tf.tidy(() => {
      const { loss, grads } = net.gradients(xs, labels, B, false);
      const out: Record<string, Float32Array> = {};
      for (const [k, t] of Object.entries(grads)) out[k] = (t.dataSync() as Float32Array).slice();
      return { loss, grads: out };
    });
  } finally {
    net.dispose();
  }
}

let uid = 0;

function needKernels(): WasmKernels {
  const kernels = wasmKernels();
  if (!kernels) throw new Error('CNN training needs the WebAssembly kernels installed first (installNodeKernels in node/wasm-kernels.ts)');
  return kernels;
}

/**
 * Trains one member of an architecture: Adam, seeded init and data order (as trainMember), and
 * gradual magnitude pruning of every prunable tensor with its own threshold (METHOD.md), masks
 * recomputed every `frequency` steps in [begin, end] and made exact at the end. `path` chooses
 * the arithmetic; init, data order and the pruning schedule are the same on both.
 */
export function trainCnnMember(
  spec: CnnMemberSpec,
  data: TrainData,
  onProgress?: (examples: number, loss: number) => void,
  observe?: (state: StepState) => void,
  path: CnnPath = defaultCnnPath(spec.arch),
): TrainedCnnMember {
  const started = performance.now();
  const { arch, batchSize: B } = spec;
  const init = initArchWeights(arch, spec.seed);
  const prunable = paramSpecs(arch).filter((p) => p.prunable).map((p) => p.name);
  const stepper = path === 'kernels' ? kernelCnnStepper(spec, data, init, prunable) : tfjsCnnStepper(spec, data, init, prunable);
  const { weights, steps, finalLoss, schedule } = runPruningLoop(spec, data, stepper, onProgress, observe);
  return {
    weights,
    steps,
    examples: steps * B,
    seconds: (performance.now() - started) / 1000,
    finalLoss,
    schedule,
    layerSparsity: prunable.map((n) => measuredSparsity(weights.params[n])),
    prunable,
  };
}

/** The project's WebAssembly kernels: the whole step in linear memory (lib/model/wasm/cnn-train.ts). */
function kernelCnnStepper(spec: CnnMemberSpec, data: TrainData, init: ArchWeights, prunable: string[]): Stepper<ArchWeights> {
  const net = new WasmCnnTrainer(needKernels(), spec.arch, init, spec.batchSize, { learningRate: spec.learningRate });
  return {
    step: (rows) => net.step(data.images, data.labels, rows),
    prune: (sparsity) => { for (const name of prunable) net.setMask(name, magnitudeMask(net.kernel(name), sparsity)); },
    prunableTensors: () => prunable.map((name) => net.kernel(name)),
    result: () => net.weights(),
    dispose: () => net.release(),
  };
}

/**
 * tfjs ops on the engine with the hand-written backward pass (ArchNet) and the JS Adam: every
 * architecture, and native TensorFlow.
 */
function tfjsCnnStepper(spec: CnnMemberSpec, data: TrainData, init: ArchWeights, prunable: string[]): Stepper<ArchWeights> {
  const { arch, batchSize: B } = spec;
  const net = new ArchNet(arch, init, `${spec.seed}_${uid++}`);
  const optimizer = new FusedAdam(spec.learningRate);
  // The trained values live here; the tfjs variables get a copy after every step.
  const values = new Map([...net.vars.keys()].map((k) => [k, net.read(k)]));
  const push = () => tf.tidy(() => { for (const [k, p] of values) net.vars.get(k)!.assign(tf.tensor(p, net.vars.get(k)!.shape)); });
  const masks = new Map<string, Float32Array>();
  const [h, w, c] = arch.input;
  const inDim = h * w * c;
  const xs = new Float32Array(B * inDim);
  const ys = new Int32Array(B);
  return {
    step: (rows) => {
      for (let j = 0; j < B; j++) {
        const idx = rows[j];
        xs.set(data.images.subarray(idx * inDim, (idx + 1) * inDim), j * inDim);
        ys[j] = data.labels[idx];
      }
      const loss = tf.tidy(() => {
        const { loss, grads } = net.gradients(xs, ys, B, true);
        const g: Record<string, Float32Array> = {};
        for (const [k, t] of Object.entries(grads)) g[k] = t.dataSync() as Float32Array;
        optimizer.step(values, g, masks);
        return loss;
      });
      push();
      return loss;
    },
    prune: (s) => {
      for (const name of prunable) {
        const p = values.get(name)!;
        const mask = magnitudeMask(p, s);
        masks.set(name, mask);
        for (let i = 0; i < p.length; i++) if (mask[i] === 0) p[i] = 0;
      }
      push();
    },
    prunableTensors: () => prunable.map((n) => values.get(n)!.slice()),
    result: () => net.weights(),
    dispose: () => net.dispose(),
  };
}

/**
 * The architecture's forward pass in tfjs ops (tf.conv2d, tf.maxPool, …) over x [n, h, w, c]:
 * 'train' normalises with batch statistics (the training objective, for autograd checks),
 * 'infer' with the running averages (what the lib/ kernels must reproduce).
 */
export function tfjsArchLogits(arch: Architecture, params: Record<string, tf.Tensor>, x: tf.Tensor4D, mode: 'train' | 'infer'): tf.Tensor2D {
  const t = new Map<string, tf.Tensor4D | tf.Tensor2D>([['input', x]]);
  const n = x.shape[0];
  for (const op of arch.ops) {
    switch (op.op) {
      case 'conv': {
        const inp = t.get(op.input) as tf.Tensor4D;
        const padded = op.padding > 0 ? tf.pad(inp, [[0, 0], [op.padding, op.padding], [op.padding, op.padding], [0, 0]]) : inp;
        let y: tf.Tensor4D = tf.conv2d(padded, params[`${op.name}.kernel`] as tf.Tensor4D, op.stride, 'valid');
        if (op.batchNorm) {
          const gamma = params[`${op.name}.gamma`], beta = params[`${op.name}.beta`];
          let mean: tf.Tensor, variance: tf.Tensor;
          if (mode === 'train') ({ mean, variance } = tf.moments(y, [0, 1, 2]));
          else { mean = params[`${op.name}.mean`]; variance = params[`${op.name}.variance`]; }
          y = tf.add(tf.mul(tf.div(tf.sub(y, mean), tf.sqrt(tf.add(variance, BATCH_NORM_EPSILON))), gamma), beta);
        } else {
          y = tf.add(y, params[`${op.name}.bias`]);
        }
        t.set(op.output, op.relu ? tf.relu(y) : y);
        break;
      }
      case 'maxpool':
        t.set(op.output, tf.maxPool(t.get(op.input) as tf.Tensor4D, op.size, op.stride, 'valid'));
        break;
      case 'add': {
        const y = tf.add(t.get(op.inputs[0])!, t.get(op.inputs[1])!) as tf.Tensor4D;
        t.set(op.output, op.relu ? tf.relu(y) : y);
        break;
      }
      case 'gap':
        t.set(op.output, tf.mean(t.get(op.input)!, [1, 2], true) as tf.Tensor4D);
        break;
      case 'dense': {
        const flat = tf.reshape(t.get(op.input)!, [n, -1]) as tf.Tensor2D;
        const y = tf.add(tf.matMul(flat, params[`${op.name}.kernel`] as tf.Tensor2D), params[`${op.name}.bias`]) as tf.Tensor2D;
        t.set(op.output, op.relu ? tf.relu(y) : y);
        break;
      }
    }
  }
  return tf.reshape(t.get(arch.output)!, [n, arch.classes]);
}

/** Argmax predictions of trained (unfolded) weights by tfjs in inference mode, to cross-check lib/. */
export function tfjsArchPredict(weights: ArchWeights, images: Float32Array, n: number, batch = 500): ClassArray {
  const { arch } = weights;
  const [h, w, c] = arch.input;
  const inDim = h * w * c;
  const specs = paramSpecs(arch);
  const params: Record<string, tf.Tensor> = {};
  for (const s of specs) params[s.name] = tf.tensor(weights.params[s.name], s.shape);
  const out = newClassArray(n, classBytesFor(arch.classes));
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const pred = tf.tidy(() => tf.argMax(tfjsArchLogits(arch, params, tf.tensor4d(images.subarray(start * inDim, (start + m) * inDim), [m, h, w, c]), 'infer'), 1));
    out.set(pred.dataSync() as Int32Array, start);
    pred.dispose();
  }
  for (const t of Object.values(params)) t.dispose();
  return out;
}
