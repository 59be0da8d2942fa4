import { type ClassArray, classBytesFor, newClassArray } from '../lib/class-array.ts';
import * as tf from '@tensorflow/tfjs-core';
import type { MlpWeights } from '../lib/model/types.ts';
import { mulberry32, permutation } from '../lib/random.ts';
import { isMaskUpdateStep, magnitudeMask, measuredSparsity, pruningSchedule, sparsityAt, type PruningSchedule } from './pruning.ts';
import { WasmMlpTrainer } from '../lib/model/wasm/mlp-train.ts';
import { wasmKernels } from '../lib/model/wasm/runtime.ts';

/** What one member of one level needs to be trained; everything that shapes the model is here. */
export interface MemberSpec {
  level: string;
  member: number;
  /** Seeds weight init and data order; see config.ts for how it is derived. */
  seed: number;
  /** Layer widths, e.g. [784, 300, 100, 10]. */
  dims: number[];
  /** 0 for dense members. */
  sparsity: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Pruning window as fractions of all training steps, and mask update period in steps. */
  pruning: { begin: number; end: number; frequency: number };
}

export interface TrainData {
  /** Float32 pixels in [0, 1], [n × dims[0]] (shared between workers). */
  images: Float32Array;
  /** Class indices [n], 1 or 2 bytes each (lib/class-array.ts). */
  labels: ClassArray;
  n: number;
}

export interface TrainedMember {
  weights: MlpWeights;
  steps: number;
  examples: number;
  seconds: number;
  finalLoss: number;
  schedule: PruningSchedule | null;
  /** Measured fraction of exact zeros per weight tensor. */
  layerSparsity: number[];
}

/** What `trainMember`'s observer sees after each step's update (and mask), for tests and diagnostics. */
export interface StepState {
  step: number;
  /** Whether the mask was recomputed at the start of this step. */
  maskUpdated: boolean;
  /** The weight matrices as they stand after the step (copies; changing them changes nothing). */
  weights: Float32Array[];
}

/** Glorot-uniform weights and zero biases from a seeded stream (the same on every backend). */
export function initWeights(dims: number[], seed: number): MlpWeights {
  const rand = mulberry32(seed);
  const layers = dims.slice(1).map((outDim, l) => {
    const inDim = dims[l];
    const limit = Math.sqrt(6 / (inDim + outDim));
    const weights = new Float32Array(inDim * outDim);
    for (let i = 0; i < weights.length; i++) weights[i] = (rand() * 2 - 1) * limit;
    return { inDim, outDim, weights, bias: new Float32Array(outDim) };
  });
  return { dims, layers };
}

/** Where an MLP trains: the project's WebAssembly kernels, or tfjs ops on the engine. */
export type MlpPath = 'kernels' | 'tfjs';

/**
 * The kernels everywhere but on native TensorFlow (tfjs-node, tfjs-node-gpu), whose ops run on
 * the GPU or in threaded native code. On the wasm engine the kernels train LeNet-300-100 about 3×
 * as fast as its ops (README, bench:train); the cpu engine is a fallback for when the wasm backend
 * cannot load, and the kernels need no backend.
 */
export function defaultMlpPath(): MlpPath {
  return tf.getBackend() === 'tensorflow' ? 'tfjs' : 'kernels';
}

/** One member's training state, of any architecture on either path; runPruningLoop drives it. */
export interface Stepper<W> {
  /** One update on the training examples `rows`; the batch's mean cross-entropy when `wantLoss`. */
  step(rows: Uint32Array, wantLoss: boolean): number | undefined;
  /** Recomputes every prunable tensor's mask at `sparsity` (magnitudeMask) and applies it now and after every later update. */
  prune(sparsity: number): void;
  /** Copies of the prunable tensors (an MLP's weight matrices [inDim × outDim]). */
  prunableTensors(): Float32Array[];
  result(): W;
  dispose(): void;
}

/**
 * The training loop of every member: seeded data order, a step per batch, and gradual magnitude
 * pruning per METHOD.md (masks recomputed every `frequency` steps inside [begin, end], made exact
 * at the end). Disposes the stepper.
 */
export function runPruningLoop<W>(
  spec: Pick<MemberSpec, 'seed' | 'sparsity' | 'epochs' | 'batchSize' | 'pruning'>,
  data: TrainData,
  stepper: Stepper<W>,
  onProgress?: (examples: number, loss: number) => void,
  observe?: (state: StepState) => void,
): { weights: W; steps: number; finalLoss: number; schedule: PruningSchedule | null } {
  const { batchSize: B } = spec;
  const stepsPerEpoch = Math.max(1, Math.floor(data.n / B));
  const totalSteps = stepsPerEpoch * spec.epochs;
  const schedule = pruningSchedule(spec.sparsity, spec.pruning, totalSteps);
  const rand = mulberry32(spec.seed ^ 0x9e3779b9);
  const rows = new Uint32Array(B);
  let step = 0, finalLoss = NaN;
  try {
    for (let epoch = 0; epoch < spec.epochs; epoch++) {
      const order = permutation(data.n, rand);
      for (let s = 0; s < stepsPerEpoch; s++, step++) {
        for (let j = 0; j < B; j++) rows[j] = order[(s * B + j) % data.n];
        const maskUpdated = !!schedule && isMaskUpdateStep(step, schedule);
        if (maskUpdated) stepper.prune(sparsityAt(step, schedule!));
        const wantLoss = s % 50 === 0 || s === stepsPerEpoch - 1;
        const loss = stepper.step(rows, wantLoss);
        if (wantLoss && loss !== undefined) {
          finalLoss = loss;
          onProgress?.((step + 1) * B, loss);
        }
        observe?.({ step, maskUpdated, weights: stepper.prunableTensors() });
      }
    }
    // The end of the schedule is reached before training stops, but make the final mask exact.
    if (schedule) stepper.prune(schedule.target);
    return { weights: stepper.result(), steps: totalSteps, finalLoss, schedule };
  } finally {
    stepper.dispose();
  }
}

/**
 * Trains one MLP: seeded init and data order, Adam, and gradual magnitude pruning per METHOD.md
 * (masks recomputed every `frequency` steps inside [begin, end] and applied after every update).
 * `path` chooses the arithmetic (see kernelStepper and tfjsStepper); init, data order and the
 * pruning schedule are the same on both.
 */
export function trainMember(
  spec: MemberSpec,
  data: TrainData,
  onProgress?: (examples: number, loss: number) => void,
  /** Called after every step; it only reads the weights, so the model trained is the same with or without it. */
  observe?: (state: StepState) => void,
  path: MlpPath = defaultMlpPath(),
): TrainedMember {
  const started = performance.now();
  const { batchSize: B } = spec;
  const init = initWeights(spec.dims, spec.seed);
  const stepper = path === 'kernels' ? kernelStepper(spec, data, init) : tfjsStepper(spec, data, init);
  const { weights, steps, finalLoss, schedule } = runPruningLoop(spec, data, stepper, onProgress, observe);
  return {
    weights,
    steps,
    examples: steps * B,
    seconds: (performance.now() - started) / 1000,
    finalLoss,
    schedule,
    layerSparsity: weights.layers.map((l) => measuredSparsity(l.weights)),
  };
}

/**
 * The project's WebAssembly kernels (lib/model/wasm/mlp-train.ts): the whole step in linear
 * memory, GEMMs that skip zero operands and need no transposed copy, Adam in one pass with the
 * mask. Adam's arithmetic is tf.train.adam's; the sums are float32 in the kernels' order, so the
 * models differ from the tfjs path's in the last bits of every step.
 */
function kernelStepper(spec: MemberSpec, data: TrainData, init: MlpWeights): Stepper<MlpWeights> {
  const kernels = wasmKernels();
  if (!kernels) throw new Error('MLP training on the kernels needs them installed first (installNodeKernels in node/wasm-kernels.ts)');
  const net = new WasmMlpTrainer(kernels, init, spec.batchSize, { learningRate: spec.learningRate });
  const layers = init.layers.map((_, l) => l);
  return {
    step: (rows) => net.step(data.images, data.labels, rows),
    prune: (sparsity) => { for (const l of layers) net.setMask(l, magnitudeMask(net.layerWeights(l), sparsity)); },
    prunableTensors: () => layers.map((l) => net.layerWeights(l)),
    result: () => net.weights(),
    dispose: () => net.release(),
  };
}

/**
 * tfjs ops with a hand-written backward pass, for native TensorFlow. Why not model.fit: its
 * gradients use transposed matMuls, which the wasm backend runs about 10× slower than a plain
 * matMul; here every transpose is explicit so each matMul takes the fast path. Adam from tfjs-core.
 */
function tfjsStepper(spec: MemberSpec, data: TrainData, init: MlpWeights): Stepper<MlpWeights> {
  const { dims, batchSize: B } = spec;
  const W = init.layers.map((l, i) => tf.variable(tf.tensor2d(l.weights, [l.inDim, l.outDim]), true, `w${i}_${spec.seed}`));
  const b = init.layers.map((l, i) => tf.variable(tf.tensor1d(l.bias), true, `b${i}_${spec.seed}`));
  const optimizer = tf.train.adam(spec.learningRate);
  let masks: tf.Tensor[] | null = null;
  const inDim = dims[0], classes = dims[dims.length - 1];
  const xs = new Float32Array(B * inDim);
  const ys = new Float32Array(B * classes);

  const prune = (sparsity: number) => tf.tidy(() => {
    masks ??= W.map((w) => tf.keep(tf.onesLike(w)));
    for (let l = 0; l < W.length; l++) {
      const m = magnitudeMask(W[l].dataSync() as Float32Array, sparsity);
      masks[l].dispose();
      masks[l] = tf.keep(tf.tensor2d(m, W[l].shape as [number, number]));
      W[l].assign(tf.mul(W[l], masks[l]));
    }
  });

  const step = (rows: Uint32Array, wantLoss: boolean) => {
    // Minibatch assembled in JS: slicing a big tensor on wasm would copy all of it.
    ys.fill(0);
    for (let j = 0; j < B; j++) {
      const idx = rows[j];
      xs.set(data.images.subarray(idx * inDim, (idx + 1) * inDim), j * inDim);
      ys[j * classes + data.labels[idx]] = 1;
    }
    const loss = tf.tidy((): tf.Scalar | void => {
      const X = tf.tensor2d(xs, [B, inDim]);
      const Y = tf.tensor2d(ys, [B, classes]);
      // Forward: Z_l = H_{l-1} W_l + b_l; H_l = relu(Z_l); softmax on the last layer.
      const Z: tf.Tensor2D[] = [], H: tf.Tensor2D[] = [X];
      for (let l = 0; l < W.length; l++) {
        const z = tf.add(tf.matMul(H[l], W[l]), b[l]) as tf.Tensor2D;
        Z.push(z);
        if (l < W.length - 1) H.push(tf.relu(z));
      }
      const logits = Z[Z.length - 1];
      const P = tf.softmax(logits);
      // Backward for mean softmax cross-entropy: dZ_L = (P − Y)/B;
      // dW_l = H_{l-1}ᵀ dZ_l; dH_{l-1} = dZ_l W_lᵀ; dZ_{l-1} = dH_{l-1} ⊙ [Z_{l-1} > 0].
      let dZ = tf.div(tf.sub(P, Y), B) as tf.Tensor2D;
      const grads: { name: string; tensor: tf.Tensor }[] = [];
      for (let l = W.length - 1; l >= 0; l--) {
        grads.push({ name: W[l].name, tensor: tf.matMul(tf.transpose(H[l]), dZ) });
        grads.push({ name: b[l].name, tensor: tf.sum(dZ, 0) });
        if (l > 0) dZ = tf.mul(tf.matMul(dZ, tf.transpose(W[l])), tf.step(Z[l - 1])) as tf.Tensor2D;
      }
      optimizer.applyGradients(grads);
      if (masks) for (let l = 0; l < W.length; l++) W[l].assign(tf.mul(W[l], masks[l]));
      if (!wantLoss) return;
      // Cross-entropy = logsumexp(z) − z_y, averaged over the batch.
      return tf.mean<tf.Scalar>(tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(logits, Y), 1)));
    });
    if (!loss) return undefined;
    const v = (loss.dataSync() as Float32Array)[0];
    loss.dispose();
    return v;
  };

  return {
    step,
    prune,
    prunableTensors: () => W.map((w) => (w.dataSync() as Float32Array).slice()),
    result: () => ({
      dims,
      layers: W.map((w, l) => ({
        inDim: dims[l],
        outDim: dims[l + 1],
        weights: w.dataSync() as Float32Array,
        bias: b[l].dataSync() as Float32Array,
      })),
    }),
    dispose: () => {
      W.forEach((w) => w.dispose());
      b.forEach((x) => x.dispose());
      masks?.forEach((m) => m.dispose());
      optimizer.dispose();
    },
  };
}

/** Argmax predictions of an MLP computed by tfjs (to cross-check the lib/ kernels). */
export function tfjsPredict(weights: MlpWeights, images: Float32Array, n: number, batch = 1000): ClassArray {
  const inDim = weights.dims[0];
  const out = newClassArray(n, classBytesFor(weights.dims[weights.dims.length - 1]));
  const W = weights.layers.map((l) => tf.tensor2d(l.weights, [l.inDim, l.outDim]));
  const b = weights.layers.map((l) => tf.tensor1d(l.bias));
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const pred = tf.tidy(() => {
      let h: tf.Tensor2D = tf.tensor2d(images.subarray(start * inDim, (start + m) * inDim), [m, inDim]);
      for (let l = 0; l < W.length; l++) {
        h = tf.add(tf.matMul(h, W[l]), b[l]) as tf.Tensor2D;
        if (l < W.length - 1) h = tf.relu(h);
      }
      return tf.argMax(h, 1);
    });
    out.set(pred.dataSync() as Int32Array, start);
    pred.dispose();
  }
  W.forEach((t) => t.dispose());
  b.forEach((t) => t.dispose());
  return out;
}
