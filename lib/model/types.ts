import type { Architecture } from './arch.ts';

/**
 * Weights of a fully connected ReLU network (LeNet-300-100 is dims [784, 300, 100, 10]).
 * Layer l computes y = x · W_l + b_l, with ReLU between layers and softmax at the end
 * (only the argmax of the logits matters for a prediction, so kernels return logits).
 */
export interface DenseLayer {
  inDim: number;
  outDim: number;
  /** [inDim, outDim], row-major: weights[i * outDim + o] connects input i to output o. */
  weights: Float32Array;
  /** [outDim] */
  bias: Float32Array;
}

export interface MlpWeights {
  /** Layer widths, input first: [784, 300, 100, 10]. */
  dims: number[];
  layers: DenseLayer[];
}

/** Input images reach every kernel as floats in [0, 1]: pixel / 255, row-major 28×28. */
export const PIXEL_SCALE = 1 / 255;

/**
 * Compact model kinds, one per compression level the method compares:
 * - `dense-f32`: the dense baseline (and the reference for every other kind);
 * - `sparse-f32`: a magnitude-pruned model in CSR form;
 * - `f16`: float16 post-training quantization;
 * - `int8-dynamic`: int8 weights, float activations quantized per image at run time;
 * - `int8-full`: int8 weights and activations, ranges calibrated ahead of time.
 */
export type ModelKind = CompactModel['kind'];

export type CompactModel = MlpCompactModel | ArchCompactModel;

export interface DenseF32Model {
  arch?: undefined;
  kind: 'dense-f32';
  /** Layer widths, input first. */
  dims: number[];
  layers: { /** [in, out] row-major */ weights: Float32Array; /** [out] */ bias: Float32Array }[];
}

/**
 * CSR by input row: the nonzero weights of input i are values[rowPtr[i] .. rowPtr[i+1]),
 * connecting to outputs colIdx[k]. Exact zeros are not stored.
 */
export interface SparseF32Layer {
  /** [in + 1], rowPtr[0] = 0, rowPtr[in] = nnz */
  rowPtr: Uint32Array;
  /** [nnz], output index; outDim ≤ 65535 */
  colIdx: Uint16Array;
  /** [nnz] */
  values: Float32Array;
  /** [out] */
  bias: Float32Array;
}

export interface SparseF32Model {
  arch?: undefined;
  kind: 'sparse-f32';
  dims: number[];
  layers: SparseF32Layer[];
}

export interface F16Model {
  arch?: undefined;
  kind: 'f16';
  dims: number[];
  /** weights: IEEE 754 binary16 bit patterns, [in, out] row-major; bias stays float32. */
  layers: { weights: Uint16Array; bias: Float32Array }[];
}

/** Symmetric per-output-channel int8 weights: W[i, o] ≈ weights[i * out + o] · weightScales[o]. */
export interface Int8WeightsLayer {
  /** [in, out] row-major, values in [−127, 127] */
  weights: Int8Array;
  /** [out], > 0 */
  weightScales: Float32Array;
}

export interface Int8DynamicModel {
  arch?: undefined;
  kind: 'int8-dynamic';
  dims: number[];
  layers: (Int8WeightsLayer & { /** [out], float */ bias: Float32Array })[];
}

/** Affine int8 quantization of one activation tensor: real = (q − zeroPoint) · scale. */
export interface ActivationQuantization {
  scale: number;
  /** integer in [−128, 127] */
  zeroPoint: number;
}

export interface Int8FullModel {
  arch?: undefined;
  kind: 'int8-full';
  dims: number[];
  /** bias: [out] int32 with scale activations[l].scale · weightScales[o] and zero point 0. */
  layers: (Int8WeightsLayer & { bias: Int32Array })[];
  /**
   * [layers + 1]: activations[l] quantizes the input of layer l, activations[l + 1] its
   * output (after the fused ReLU for hidden layers; the logits for the last one).
   */
  activations: ActivationQuantization[];
}

/** Weight sparsity of one layer (biases are never pruned, so they are not counted). */
export interface LayerSparsity {
  nonzeros: number;
  total: number;
  /** 1 − nonzeros / total */
  sparsity: number;
}

/*
 * Models of an Architecture (lib/model/arch.ts): convolutional nets and anything else that is not
 * a plain chain of dense layers. The MLP kinds above stay as they are (`dims`), so MLP runs keep
 * their files and code paths; these carry `arch` instead.
 *
 * `layers` holds one entry per weighted op (conv and dense), in op order, of the same type as the
 * MLP kind's layer: a conv kernel HWIO [k, k, in, filters] read row-major is the matrix
 * [k·k·in, filters] that multiplies an im2col patch ordered (ky, kx, c), so every layer is an
 * [in, out] matrix plus a bias [out]. BatchNorm is already folded into it (see foldBatchNorm).
 */
export interface ArchModelBase {
  arch: Architecture;
  dims?: undefined;
}

export interface ArchDenseF32Model extends ArchModelBase {
  kind: 'dense-f32';
  layers: DenseF32Model['layers'];
}

export interface ArchSparseF32Model extends ArchModelBase {
  kind: 'sparse-f32';
  layers: SparseF32Layer[];
}

export interface ArchF16Model extends ArchModelBase {
  kind: 'f16';
  layers: F16Model['layers'];
}

export interface ArchInt8DynamicModel extends ArchModelBase {
  kind: 'int8-dynamic';
  /** Inputs are quantized per image and tensor (max |x| / 127), as for the dense layers. */
  layers: Int8DynamicModel['layers'];
}

export interface ArchInt8FullModel extends ArchModelBase {
  kind: 'int8-full';
  /** bias: [out] int32 with scale s_in · s_w[o], s_in the quantization of the op's input tensor. */
  layers: Int8FullModel['layers'];
  /**
   * Quantization of every tensor, by name ('input' and every op's output). A maxpool's output
   * has its input's quantization (max commutes with a monotone map), so pooling runs on codes.
   */
  activations: Record<string, ActivationQuantization>;
}

export type ArchCompactModel = ArchDenseF32Model | ArchSparseF32Model | ArchF16Model | ArchInt8DynamicModel | ArchInt8FullModel;

/** The MLP models of file format v1 (dims, no arch). */
export type MlpCompactModel = DenseF32Model | SparseF32Model | F16Model | Int8DynamicModel | Int8FullModel;

export function isArchModel(model: CompactModel): model is ArchCompactModel {
  return model.arch !== undefined;
}
