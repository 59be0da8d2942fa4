import { type Op, type Shape3, tensorShapes } from './arch.ts';
import { layerDims, weightedOps } from './arch-layers.ts';
import { type ConvGeometry, addFloat, addInt8, convFloat, convInt8Dynamic, convInt8Full, gapFloat, gapInt8, maxPool } from './arch-kernels.ts';
import { decodeFloat16Array } from './float16.ts';
import { quantizeActivation } from './int8.ts';
import { denseLayer, int8DynamicLayer, int8FullLayer, sparseLayer, storeActivation } from './kernels.ts';
import type { ArchCompactModel, SparseF32Layer } from './types.ts';

/** Writes the logits of the HWC image at xs[off .. off + h·w·c) into out. */
export type ArchForward = (xs: Float32Array, off: number, out: Float32Array) => void;

const size = (s: Shape3) => s[0] * s[1] * s[2];

function geometry(op: Extract<Op, { op: 'conv' }>, inS: Shape3, outS: Shape3): ConvGeometry {
  return { h: inS[0], w: inS[1], c: inS[2], kernel: op.kernel, stride: op.stride, padding: op.padding, oh: outS[0], ow: outS[1], filters: op.filters };
}

/**
 * The JS reference forward pass of an architecture model: every tensor gets its own buffer,
 * allocated here once (float32 for the float kinds and int8-dynamic, int8 codes for int8-full),
 * so a forward pass allocates nothing. `observe` sees every float tensor after it is written
 * (calibration uses it); it is not called for int8-full.
 */
export function archForward(model: ArchCompactModel, observe?: (tensor: string, values: Float32Array) => void): ArchForward {
  const { arch } = model;
  const shapes = tensorShapes(arch);
  const dims = layerDims(arch);
  const maxIn = Math.max(...dims.map(([i]) => i));
  const maxOut = Math.max(...dims.map(([, o]) => o));
  const layerOf = new Map(weightedOps(arch).map((op, l) => [op.name, l]));
  const inLen = size(arch.input);
  const classes = arch.classes;

  if (model.kind === 'int8-full') {
    const acts = model.activations;
    const codes = new Map<string, Int8Array>([...shapes].map(([name, s]) => [name, new Int8Array(size(s))]));
    const patch = new Int8Array(maxIn);
    const acc = new Int32Array(maxOut);
    const steps: (() => void)[] = arch.ops.map((op): (() => void) => {
      const y = codes.get(op.output)!;
      const qOut = acts[op.output];
      switch (op.op) {
        case 'conv':
        case 'dense': {
          const layer = model.layers[layerOf.get(op.name)!];
          const qIn = acts[op.input];
          const m = Float64Array.from(layer.weightScales, (sw) => (qIn.scale * sw) / qOut.scale);
          const lo = op.relu ? qOut.zeroPoint : -128;
          const x = codes.get(op.input)!;
          if (op.op === 'dense') {
            const [inDim, outDim] = dims[layerOf.get(op.name)!];
            return () => int8FullLayer(x, qIn.zeroPoint, inDim, outDim, layer.weights, layer.bias, m, qOut.zeroPoint, lo, acc, y);
          }
          const g = geometry(op, shapes.get(op.input)!, shapes.get(op.output)!);
          return () => convInt8Full(x, qIn.zeroPoint, g, layer.weights, layer.bias, m, qOut.zeroPoint, lo, y, patch, acc);
        }
        case 'maxpool': {
          const [h, w, c] = shapes.get(op.input)!;
          const [oh, ow] = shapes.get(op.output)!;
          const x = codes.get(op.input)!;
          return () => maxPool(x, h, w, c, op.size, op.stride, oh, ow, y);
        }
        case 'add': {
          const [a, b] = op.inputs;
          const qa = acts[a], qb = acts[b];
          const xa = codes.get(a)!, xb = codes.get(b)!;
          const n = y.length;
          const lo = op.relu ? qOut.zeroPoint : -128;
          return () => addInt8(xa, qa.zeroPoint, qa.scale / qOut.scale, xb, qb.zeroPoint, qb.scale / qOut.scale, n, qOut.zeroPoint, lo, y);
        }
        case 'gap': {
          const [h, w, c] = shapes.get(op.input)!;
          const qIn = acts[op.input];
          const x = codes.get(op.input)!;
          const mult = qIn.scale / (h * w * qOut.scale);
          return () => gapInt8(x, qIn.zeroPoint, h * w, c, mult, qOut.zeroPoint, y);
        }
      }
    });
    const q0 = codes.get('input')!;
    const { scale: s0, zeroPoint: zp0 } = acts.input;
    const qLast = codes.get(arch.output)!;
    const { scale: sL, zeroPoint: zpL } = acts[arch.output];
    return (xs, off, out) => {
      for (let i = 0; i < inLen; i++) q0[i] = quantizeActivation(xs[off + i], s0, zp0);
      for (const step of steps) step();
      // Dequantized int8 logits; monotone, so the argmax is the int8 argmax.
      for (let o = 0; o < classes; o++) out[o] = (qLast[o] - zpL) * sL;
    };
  }

  const tensors = new Map<string, Float32Array>([...shapes].map(([name, s]) => [name, new Float32Array(size(s))]));
  const accF = new Float64Array(maxOut);
  const patchF = new Float32Array(maxIn);
  const qx = new Int8Array(Math.max(...[...shapes.values()].map(size)));
  const patchQ = new Int8Array(maxIn);
  const accQ = new Int32Array(maxOut);
  // f16 weights are decoded once into a float32 working copy, as for the MLP.
  const floatLayers =
    model.kind === 'dense-f32' ? model.layers
    : model.kind === 'f16' ? model.layers.map((layer) => ({ weights: decodeFloat16Array(layer.weights), bias: layer.bias }))
    : null;
  const steps: (() => void)[] = arch.ops.map((op): (() => void) => {
    const y = tensors.get(op.output)!;
    switch (op.op) {
      case 'conv':
      case 'dense': {
        const l = layerOf.get(op.name)!;
        const [inDim, outDim] = dims[l];
        const x = tensors.get(op.input)!;
        if (model.kind === 'int8-dynamic') {
          const { weights, weightScales, bias } = model.layers[l];
          if (op.op === 'dense') return () => int8DynamicLayer(x, 0, inDim, outDim, weights, weightScales, bias, qx, accQ, y, op.relu);
          const g = geometry(op, shapes.get(op.input)!, shapes.get(op.output)!);
          return () => convInt8Dynamic(x, 0, g, weights, weightScales, bias, op.relu, y, qx, patchQ, accQ);
        }
        const layer: { weights: Float32Array; bias: Float32Array } | SparseF32Layer = floatLayers ? floatLayers[l] : (model.layers[l] as SparseF32Layer);
        if (op.op === 'conv') {
          const g = geometry(op, shapes.get(op.input)!, shapes.get(op.output)!);
          return () => convFloat(x, 0, g, layer, op.relu, y, patchF, accF);
        }
        return 'rowPtr' in layer
          ? () => { sparseLayer(x, 0, inDim, outDim, layer, accF); storeActivation(accF, y, outDim, op.relu); }
          : () => { denseLayer(x, 0, inDim, outDim, layer.weights, layer.bias, accF); storeActivation(accF, y, outDim, op.relu); };
      }
      case 'maxpool': {
        const [h, w, c] = shapes.get(op.input)!;
        const [oh, ow] = shapes.get(op.output)!;
        const x = tensors.get(op.input)!;
        return () => maxPool(x, h, w, c, op.size, op.stride, oh, ow, y);
      }
      case 'add': {
        const a = tensors.get(op.inputs[0])!, b = tensors.get(op.inputs[1])!;
        return () => addFloat(a, b, y.length, op.relu, y);
      }
      case 'gap': {
        const [h, w, c] = shapes.get(op.input)!;
        const x = tensors.get(op.input)!;
        return () => gapFloat(x, h * w, c, y);
      }
    }
  });
  const x0 = tensors.get('input')!;
  const last = tensors.get(arch.output)!;
  const names = arch.ops.map((op) => op.output);
  return (xs, off, out) => {
    x0.set(xs.subarray(off, off + inLen));
    if (observe) observe('input', x0);
    for (let s = 0; s < steps.length; s++) {
      steps[s]();
      if (observe) observe(names[s], tensors.get(names[s])!);
    }
    for (let o = 0; o < classes; o++) out[o] = last[o];
  };
}
