/**
 * Compact models of fully connected ReLU nets (LeNet-300-100) and of convolutional architectures
 * (arch.ts: LeNet-5, ResNets), and the kernels that run them.
 * One code path serves the trainer's evaluation and the API's live predictions, so a published
 * prediction is exactly what the API computes. Runtime-neutral: plain TypeScript over typed arrays.
 *
 *   weights ──toDenseModel / toSparseModel / quantizeFloat16 / quantizeInt8Dynamic / quantizeInt8Full──▶ CompactModel
 *   CompactModel ◀──encodeModel / decodeModel──▶ bytes ('PIEM' v1 MLP, v2 architecture)
 *   ArchWeights ──foldBatchNorm, toArchModel(weights, kind)──▶ CompactModel (with `arch`)
 *   createPredictor(model).predictBatch(images, n) → labels
 */
export * from './types.ts';
export { ModelFormatError } from './validate.ts';
export { toDenseModel, toSparseModel, quantizeFloat16, toMlpWeights, sparsityOf } from './convert.ts';
export { quantizeInt8Dynamic, quantizeInt8Full, type QuantizeInt8FullOptions } from './quantize.ts';
export { encodeModel, decodeModel, prunedModel, MODEL_FORMAT_VERSION } from './format.ts';
export { createPredictor, predictEach, type Predictor } from './predictor.ts';
export { argmax } from './kernels.ts';
export { f32ToF16Bits, f16BitsToF32, encodeFloat16Array, decodeFloat16Array } from './float16.ts';
export { roundHalfAway } from './int8.ts';
export { type ArchWeights, type ToArchModelOptions, assertArchWeights, foldBatchNorm, toArchModel, toArchWeights } from './arch-weights.ts';
export { layerDims, weightedOps } from './arch-layers.ts';
export * from './arch.ts';
