/**
 * The reference a quantized CNN member is checked against (METHOD.md's agreement rule has no
 * tfjs counterpart for quantized models): a tfjs forward pass of its folded architecture with
 * its dequantized weights (toArchWeights) and fake-quantized activations —
 * - f16: float activations;
 * - int8-dynamic: each conv/dense input quantized per image, symmetric: round(x·127/max|x|)·max|x|/127;
 * - int8-full: every tensor as stored (input, conv/add/gap/dense outputs; a maxpool keeps its
 *   input's grid) rounded to its calibrated scale and zero point, clamped to int8.
 * It rounds half to even and sums in float32, where the kernels round half away and sum integers:
 * near-ties can flip, hence a threshold below 1 (MIN_QUANTIZED_AGREEMENT in cnn-run.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { classBytesFor, newClassArray, type ClassArray } from '../lib/class-array.ts';
import { paramSpecs } from '../lib/model/arch.ts';
import { toArchWeights } from '../lib/model/arch-weights.ts';
import type { ArchCompactModel } from '../lib/model/types.ts';

export function quantizedReferencePredict(model: ArchCompactModel, images: Float32Array, n: number, batch = 250): ClassArray {
  const { arch, params: p } = toArchWeights(model);
  const [h, w, c] = arch.input;
  const inDim = h * w * c;
  const params: Record<string, tf.Tensor> = {};
  for (const s of paramSpecs(arch)) params[s.name] = tf.tensor(p[s.name], s.shape);
  const acts = model.kind === 'int8-full' ? model.activations : null;
  // x [m, …]: a per-tensor grid.
  const fq = (name: string, x: tf.Tensor): tf.Tensor => {
    if (!acts) return x;
    const { scale, zeroPoint } = acts[name];
    return tf.mul(tf.sub(tf.clipByValue(tf.add(tf.round(tf.div(x, scale)), zeroPoint), -128, 127), zeroPoint), scale);
  };
  // x [m, …]: one symmetric grid per image.
  const fin = (x: tf.Tensor): tf.Tensor => {
    if (model.kind !== 'int8-dynamic') return x;
    const m = x.shape[0];
    const flat = tf.reshape(x, [m, -1]);
    const mx = tf.max(tf.abs(flat), 1, true);
    const step = tf.div(tf.where(tf.equal(mx, 0), tf.onesLike(mx), mx), 127);
    return tf.reshape(tf.mul(tf.round(tf.div(flat, step)), step), x.shape);
  };
  const out = newClassArray(n, classBytesFor(arch.classes));
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const pred = tf.tidy(() => {
      const t = new Map<string, tf.Tensor>([['input', fq('input', tf.tensor4d(images.subarray(start * inDim, (start + m) * inDim), [m, h, w, c]))]]);
      for (const op of arch.ops) {
        let y: tf.Tensor;
        if (op.op === 'conv') {
          let x = fin(t.get(op.input)!) as tf.Tensor4D;
          if (op.padding > 0) x = tf.pad(x, [[0, 0], [op.padding, op.padding], [op.padding, op.padding], [0, 0]]);
          y = tf.add(tf.conv2d(x, params[`${op.name}.kernel`] as tf.Tensor4D, op.stride, 'valid'), params[`${op.name}.bias`]);
          if (op.relu) y = tf.relu(y);
        } else if (op.op === 'dense') {
          const x = tf.reshape(fin(t.get(op.input)!), [m, -1]) as tf.Tensor2D;
          y = tf.add(tf.matMul(x, params[`${op.name}.kernel`] as tf.Tensor2D), params[`${op.name}.bias`]);
          if (op.relu) y = tf.relu(y);
        } else if (op.op === 'maxpool') {
          t.set(op.output, tf.maxPool(t.get(op.input)! as tf.Tensor4D, op.size, op.stride, 'valid'));
          continue;
        } else if (op.op === 'add') {
          y = tf.add(t.get(op.inputs[0])!, t.get(op.inputs[1])!);
          if (op.relu) y = tf.relu(y);
        } else {
          y = tf.mean(t.get(op.input)!, [1, 2], true);
        }
        t.set(op.output, fq(op.output, y));
      }
      return tf.argMax(tf.reshape(t.get(arch.output)!, [m, arch.classes]), 1);
    });
    out.set(pred.dataSync() as Int32Array, start);
    pred.dispose();
  }
  for (const t of Object.values(params)) t.dispose();
  return out;
}
