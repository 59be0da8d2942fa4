/**
 * The convolutional side of a run (pipeline.ts): the run's Architecture from its config and the
 * data's input shape, the sparsity check per prunable tensor, and the models a trained or dense
 * member turns into. Kept apart so the MLP path in pipeline.ts stays as it was.
 */
import { type Architecture, lenet5Arch, paramSpecs, resnetArch, type Shape3 } from '../lib/model/arch.ts';
import { type ArchWeights, toArchModel, toArchWeights } from '../lib/model/arch-weights.ts';
import type { ArchCompactModel, CompactModel } from '../lib/model/types.ts';
import { prunedModel } from '../lib/model/format.ts';
import type { RunConfig } from './config.ts';

/**
 * Quantized CNN members vs their fake-quantized tfjs reference (cnn-quant-reference.ts): share of
 * identical test argmaxes, pooled per run, below which the run fails. Not 0.999: the reference
 * rounds and sums in float32 where the kernels use integers.
 */
export const MIN_QUANTIZED_AGREEMENT = 0.99;

/** The run's architecture, or null for the MLP (`hidden`). Input [h, w, c] comes from the data. */
export function runArchitecture(cfg: RunConfig, input: Shape3, classes: number): Architecture | null {
  const a = cfg.arch;
  if (!a) return null;
  if (a.name === 'lenet5') return lenet5Arch(input, classes, { conv: a.conv as [number, number] | undefined, dense: a.dense });
  return resnetArch(input, classes, { depth: a.depth, width: a.width });
}

/** The manifest's architecture block for a CNN run; pruning is of the unfolded kernels. */
export function archManifestEntry(arch: Architecture): { name: string; dims: number[]; arch: Architecture; pruning: string } {
  const [h, w, c] = arch.input;
  return {
    name: arch.name,
    dims: [h * w * c, arch.classes],
    arch,
    pruning: 'each conv kernel (1×1 projections included) and dense kernel has its own magnitude threshold, applied to the ' +
      'unfolded kernel during training; BatchNorm is folded into kernel and bias afterwards (a zero stays zero); ' +
      'biases and BatchNorm parameters are not pruned',
  };
}

/** METHOD.md's check for every prunable tensor: final sparsity equals the target (± one weight). */
export function checkArchSparsity(weights: ArchWeights, target: number, where: string): void {
  for (const p of paramSpecs(weights.arch)) {
    if (!p.prunable) continue;
    const v = weights.params[p.name];
    let zeros = 0;
    for (let j = 0; j < v.length; j++) if (v[j] === 0) zeros++;
    const expected = v.length - Math.round(v.length * (1 - target));
    if (Math.abs(zeros - expected) > 1) throw new Error(`${where}: ${p.name} has ${zeros} zeros of ${v.length}, target sparsity ${target} needs ${expected}`);
  }
}

export function trainedArchModel(weights: ArchWeights, sparsity: number): CompactModel {
  return sparsity > 0 ? prunedModel((kind) => toArchModel(weights, kind)) : toArchModel(weights, 'dense-f32');
}

/** A quantized model of a dense member's (folded) float weights, as the MLP path does. */
export function quantizedArchModel(dense: CompactModel, quantization: 'float16' | 'int8-dynamic' | 'int8-full', calibration: Float32Array, n: number): CompactModel {
  const weights = toArchWeights(dense as ArchCompactModel);
  const kind = quantization === 'float16' ? 'f16' : quantization;
  return toArchModel(weights, kind, { calibration, n });
}
