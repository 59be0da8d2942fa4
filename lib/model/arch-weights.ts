import { ArchError, type Architecture, BATCH_NORM_EPSILON, checkArch, paramSpecs } from './arch.ts';
import { layerDims, weightedOps } from './arch-layers.ts';
import { archForward } from './arch-predictor.ts';
import { decodeFloat16Array, encodeFloat16Array } from './float16.ts';
import { activationQuantization, clamp, quantizeWeightColumns, roundHalfAway } from './int8.ts';
import { fromCsrLayer, quantizeFloat16, toCsrLayer, toDenseModel, toSparseModel } from './convert.ts';
import { quantizeInt8Dynamic, quantizeInt8Full } from './quantize.ts';
import type { ActivationQuantization, ArchCompactModel, ArchDenseF32Model, CompactModel, MlpWeights, ModelKind } from './types.ts';
import { ModelFormatError, assertModel } from './validate.ts';

/**
 * Float weights of an architecture as the trainer produces them: every tensor of
 * paramSpecs(arch) by name (`conv1.kernel` HWIO, `fc1.kernel` [in, units], `…bias`, and BatchNorm's
 * `gamma`, `beta`, `mean` (moving mean), `variance` (moving variance) unfolded).
 */
export interface ArchWeights {
  arch: Architecture;
  params: Record<string, Float32Array>;
}

/** Checks the architecture and that params hold exactly paramSpecs(arch) with the right lengths. */
export function assertArchWeights(w: ArchWeights): void {
  try {
    checkArch(w.arch);
  } catch (err) {
    if (err instanceof ArchError) throw new ModelFormatError(`weights: ${err.message}`, { cause: err });
    throw err;
  }
  const specs = paramSpecs(w.arch);
  const expected = new Set(specs.map((s) => s.name));
  for (const name of Object.keys(w.params)) {
    if (!expected.has(name)) throw new ModelFormatError(`weights: unexpected parameter '${name}' for architecture ${w.arch.name}`);
  }
  for (const { name, shape } of specs) {
    const p = w.params[name];
    const n = shape.reduce((a, b) => a * b, 1);
    if (!(p instanceof Float32Array)) throw new ModelFormatError(`weights: parameter '${name}' [${shape}] is missing`);
    if (p.length !== n) throw new ModelFormatError(`weights: parameter '${name}' has ${p.length} values, expected ${n} ([${shape}])`);
  }
}

/**
 * Folds every BatchNorm into its conv for inference:
 *   s[f]      = gamma[f] / sqrt(variance[f] + ε)         (float64)
 *   kernel'[…, f] = kernel[…, f] · s[f]
 *   bias'[f]  = beta[f] − mean[f] · s[f]
 * and marks the op `batchNorm: false`, so the result is a plain conv with a bias.
 *
 * Pruning and folding: the trainer prunes the unfolded kernel (METHOD.md: one threshold per
 * kernel; BatchNorm parameters are never pruned). Folding scales each output channel by one
 * finite factor s[f], so a pruned weight, 0, stays exactly 0 (0 · s = ±0, which the sparse
 * format treats as 0) and the folded kernel has the trained sparsity pattern exactly. The
 * magnitudes of the surviving weights change per channel, which is why thresholds are taken
 * before folding, on the weights the trainer learned.
 */
export function foldBatchNorm(w: ArchWeights): ArchWeights {
  assertArchWeights(w);
  const params: Record<string, Float32Array> = {};
  const ops = w.arch.ops.map((op) => {
    if (op.op !== 'conv' || !op.batchNorm) {
      for (const suffix of ['kernel', 'bias']) {
        const key = `${'name' in op ? op.name : ''}.${suffix}`;
        if (key in w.params) params[key] = w.params[key].slice();
      }
      return op;
    }
    const p = (s: string) => w.params[`${op.name}.${s}`];
    const [gamma, beta, mean, variance, kernel] = [p('gamma'), p('beta'), p('mean'), p('variance'), p('kernel')];
    const F = op.filters;
    const scale = Float64Array.from(gamma, (g, f) => g / Math.sqrt(variance[f] + BATCH_NORM_EPSILON));
    const folded = new Float32Array(kernel.length); // HWIO: the filter index is the fastest axis
    for (let k = 0; k < kernel.length; k++) folded[k] = kernel[k] * scale[k % F];
    params[`${op.name}.kernel`] = folded;
    params[`${op.name}.bias`] = Float32Array.from(beta, (b, f) => b - mean[f] * scale[f]);
    return { ...op, batchNorm: false };
  });
  return { arch: { ...w.arch, input: [...w.arch.input], ops }, params };
}

/** True for an architecture that is a chain of dense layers from the input: an MLP. */
function isMlp(arch: Architecture): boolean {
  let prev = 'input';
  for (const op of arch.ops) {
    if (op.op !== 'dense' || op.input !== prev) return false;
    prev = op.output;
  }
  return prev === arch.output;
}

export interface ToArchModelOptions {
  /** int8-full: calibration images [n × h·w·c] in [0, 1] (the method: the first 100 training images). */
  calibration?: Float32Array;
  n?: number;
}

/**
 * A compact model of any kind from trained float weights. BatchNorm is folded first.
 * An MLP architecture gives today's MLP model (`dims`, via toDenseModel & co., byte-identical
 * files and predictions); every other architecture an ArchCompactModel.
 *
 * int8-full calibration: float forward passes over the calibration images record the range of
 * every tensor as stored (after the fused ReLU where there is one, like the MLP's 'post-relu'
 * default; the logits before any); each tensor gets asymmetric parameters from its range widened
 * to contain 0 (activationQuantization), the input at least [0, 1]; a maxpool output reuses
 * its input's. Weights: symmetric per output channel; bias int32 at scale s_in · s_w[f].
 */
export function toArchModel(weights: ArchWeights, kind: ModelKind, options: ToArchModelOptions = {}): CompactModel {
  const w = foldBatchNorm(weights);
  const { arch, params } = w;
  if (isMlp(arch)) {
    const mlp = toMlp(w);
    switch (kind) {
      case 'dense-f32': return toDenseModel(mlp);
      case 'sparse-f32': return toSparseModel(mlp);
      case 'f16': return quantizeFloat16(mlp);
      case 'int8-dynamic': return quantizeInt8Dynamic(mlp);
      case 'int8-full': {
        const { calibration, n } = needCalibration(options, mlp.dims[0]);
        return quantizeInt8Full(mlp, calibration, n);
      }
    }
  }
  const ops = weightedOps(arch);
  const dims = layerDims(arch);
  const mats = ops.map((op) => ({ weights: params[`${op.name}.kernel`], bias: params[`${op.name}.bias`] }));
  switch (kind) {
    case 'dense-f32':
      return { kind, arch, layers: mats.map((m) => ({ weights: m.weights.slice(), bias: m.bias.slice() })) };
    case 'sparse-f32':
      return { kind, arch, layers: mats.map((m, l) => toCsrLayer(m.weights, dims[l][0], dims[l][1], m.bias)) };
    case 'f16':
      return { kind, arch, layers: mats.map((m) => ({ weights: encodeFloat16Array(m.weights), bias: m.bias.slice() })) };
    case 'int8-dynamic':
      return { kind, arch, layers: mats.map((m, l) => ({ ...quantizeWeightColumns(m.weights, dims[l][0], dims[l][1]), bias: m.bias.slice() })) };
    case 'int8-full': {
      const inLen = arch.input[0] * arch.input[1] * arch.input[2];
      const { calibration, n } = needCalibration(options, inLen);
      const dense: ArchDenseF32Model = { kind: 'dense-f32', arch, layers: mats };
      const activations = calibrate(dense, calibration, n);
      const layers = mats.map((m, l) => {
        const q = quantizeWeightColumns(m.weights, dims[l][0], dims[l][1]);
        const sIn = activations[ops[l].input].scale;
        const bias = Int32Array.from(m.bias, (b, f) => clamp(roundHalfAway(b / (sIn * q.weightScales[f])), -2147483648, 2147483647));
        return { ...q, bias };
      });
      return { kind, arch, layers, activations } satisfies ArchCompactModel;
    }
  }
}

function needCalibration(options: ToArchModelOptions, inLen: number): { calibration: Float32Array; n: number } {
  const { calibration, n } = options;
  if (!calibration || n === undefined) throw new RangeError('toArchModel: int8-full needs calibration images (options.calibration and options.n)');
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`toArchModel: need at least 1 calibration image, got n = ${n}`);
  if (calibration.length < n * inLen) throw new RangeError(`toArchModel: calibration holds ${calibration.length} values, expected ${n} × ${inLen}`);
  return { calibration, n };
}

function calibrate(model: ArchDenseF32Model, calibration: Float32Array, n: number): Record<string, ActivationQuantization> {
  const { arch } = model;
  const min = new Map<string, number>([['input', 0]]);
  const max = new Map<string, number>([['input', 1]]);
  const forward = archForward(model, (name, values) => {
    let lo = min.get(name) ?? Infinity, hi = max.get(name) ?? -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    min.set(name, lo);
    max.set(name, hi);
  });
  const inLen = arch.input[0] * arch.input[1] * arch.input[2];
  const logits = new Float32Array(arch.classes);
  for (let k = 0; k < n; k++) forward(calibration, k * inLen, logits);
  const acts: Record<string, ActivationQuantization> = { input: activationQuantization(min.get('input')!, max.get('input')!) };
  for (const op of arch.ops) {
    acts[op.output] = op.op === 'maxpool' ? { ...acts[op.input] } : activationQuantization(min.get(op.output)!, max.get(op.output)!);
  }
  return acts;
}

/** The MLP weights of a dense-chain architecture (after folding, which leaves dense ops alone). */
function toMlp(w: ArchWeights): MlpWeights {
  const dims = [w.arch.input[0] * w.arch.input[1] * w.arch.input[2]];
  const layers = w.arch.ops.map((op) => {
    if (op.op !== 'dense') throw new Error('unreachable');
    const inDim = dims[dims.length - 1];
    dims.push(op.units);
    return { inDim, outDim: op.units, weights: w.params[`${op.name}.kernel`], bias: w.params[`${op.name}.bias`] };
  });
  return { dims, layers };
}

/**
 * The float weights an architecture model stands for (the inverse of toArchModel up to
 * quantization): its folded arch, kernels and biases; int8 kinds dequantized (q · scale, and
 * for int8-full the bias qb · s_in · s_w).
 */
export function toArchWeights(model: ArchCompactModel): ArchWeights {
  assertModel(model);
  const { arch } = model;
  const ops = weightedOps(arch);
  const dims = layerDims(arch);
  const params: Record<string, Float32Array> = {};
  ops.forEach((op, l) => {
    const [inDim, outDim] = dims[l];
    let weights: Float32Array;
    let bias: Float32Array;
    switch (model.kind) {
      case 'dense-f32':
        weights = model.layers[l].weights.slice();
        bias = model.layers[l].bias.slice();
        break;
      case 'sparse-f32':
        weights = fromCsrLayer(model.layers[l], inDim, outDim);
        bias = model.layers[l].bias.slice();
        break;
      case 'f16':
        weights = decodeFloat16Array(model.layers[l].weights);
        bias = model.layers[l].bias.slice();
        break;
      case 'int8-dynamic':
      case 'int8-full': {
        const { weights: q, weightScales } = model.layers[l];
        weights = Float32Array.from(q, (v, k) => v * weightScales[k % outDim]);
        if (model.kind === 'int8-dynamic') bias = model.layers[l].bias.slice();
        else {
          const sIn = model.activations[op.input].scale;
          bias = Float32Array.from(model.layers[l].bias, (b, o) => b * (sIn * weightScales[o]));
        }
        break;
      }
    }
    params[`${op.name}.kernel`] = weights;
    params[`${op.name}.bias`] = bias;
  });
  return { arch, params };
}
