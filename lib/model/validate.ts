import { ArchError, checkArch, tensorShapes } from './arch.ts';
import { layerDims } from './arch-layers.ts';
import type { ArchCompactModel, CompactModel, MlpWeights } from './types.ts';

/** A model (or its bytes) is malformed: wrong shape, bad header, truncated or corrupt data. */
export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
}

function fail(message: string): never {
  throw new ModelFormatError(message);
}

export function assertDims(dims: unknown, what = 'model'): asserts dims is number[] {
  if (!Array.isArray(dims) || dims.length < 2) {
    fail(`${what}: dims must list at least 2 layer widths, got ${JSON.stringify(dims)}`);
  }
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 1) fail(`${what}: dims must be positive integers, got ${JSON.stringify(dims)}`);
  }
}

function assertLength(what: string, name: string, actual: number, expected: number, shape: string): void {
  if (actual !== expected) fail(`${what}: ${name} has length ${actual}, expected ${expected} (${shape})`);
}

function assertScale(what: string, scale: number): void {
  if (!(Number.isFinite(scale) && scale > 0)) fail(`${what}: scale must be finite and > 0, got ${scale}`);
}

/** Checks float weights before conversion: dims, layer count and array lengths. */
export function assertMlpWeights(w: MlpWeights): void {
  assertDims(w.dims, 'weights');
  if (w.layers.length !== w.dims.length - 1) {
    fail(`weights: ${w.layers.length} layers for dims ${JSON.stringify(w.dims)}, expected ${w.dims.length - 1}`);
  }
  w.layers.forEach((layer, l) => {
    const inDim = w.dims[l];
    const outDim = w.dims[l + 1];
    const what = `weights layer ${l}`;
    if (layer.inDim !== inDim || layer.outDim !== outDim) {
      fail(`${what}: is ${layer.inDim}×${layer.outDim}, dims say ${inDim}×${outDim}`);
    }
    assertLength(what, 'weights', layer.weights.length, inDim * outDim, `${inDim}×${outDim}`);
    assertLength(what, 'bias', layer.bias.length, outDim, `${outDim}`);
  });
}

/**
 * Checks every structural invariant the kernels rely on, so a predictor never reads out of
 * bounds: lengths against dims, CSR structure, int8 ranges, scales and zero points.
 * O(parameters); run once per model load.
 */
export function assertModel(model: CompactModel): void {
  if (model.arch !== undefined) return assertArchModel(model as ArchCompactModel);
  const kind = model.kind;
  assertDims(model.dims, `${kind} model`);
  const { dims } = model;
  if (model.layers.length !== dims.length - 1) {
    fail(`${kind} model: ${model.layers.length} layers for dims ${JSON.stringify(dims)}, expected ${dims.length - 1}`);
  }
  for (let l = 0; l < model.layers.length; l++) {
    const inDim = dims[l];
    const outDim = dims[l + 1];
    const what = `${kind} model layer ${l}`;
    assertLayer(model, l, inDim, outDim, what);
  }
  if (model.kind === 'int8-full') {
    const acts = model.activations;
    if (!Array.isArray(acts) || acts.length !== dims.length) {
      fail(`int8-full model: expected ${dims.length} activation quantizations (one per layer input plus the output), got ${Array.isArray(acts) ? acts.length : typeof acts}`);
    }
    acts.forEach((a, l) => {
      assertScale(`int8-full model activations[${l}]`, a.scale);
      if (!Number.isInteger(a.zeroPoint) || a.zeroPoint < -128 || a.zeroPoint > 127) {
        fail(`int8-full model activations[${l}]: zeroPoint must be an integer in [−128, 127], got ${a.zeroPoint}`);
      }
    });
  }
}

/** One layer's arrays against its [inDim, outDim] matrix: the checks shared by MLP and architecture models. */
function assertLayer(model: CompactModel, l: number, inDim: number, outDim: number, what: string): void {
  const shape = `${inDim}×${outDim}`;
  switch (model.kind) {
    case 'dense-f32':
    case 'f16': {
      const layer = model.layers[l];
      assertLength(what, 'weights', layer.weights.length, inDim * outDim, shape);
      assertLength(what, 'bias', layer.bias.length, outDim, `${outDim}`);
      break;
    }
    case 'sparse-f32': {
      const { rowPtr, colIdx, values, bias } = model.layers[l];
      if (outDim > 65535) fail(`${what}: outDim ${outDim} does not fit the uint16 column index (max 65535)`);
      assertLength(what, 'rowPtr', rowPtr.length, inDim + 1, `${inDim} + 1`);
      assertLength(what, 'bias', bias.length, outDim, `${outDim}`);
      if (rowPtr[0] !== 0) fail(`${what}: rowPtr[0] is ${rowPtr[0]}, expected 0`);
      for (let i = 0; i < inDim; i++) {
        if (rowPtr[i + 1] < rowPtr[i]) fail(`${what}: rowPtr decreases at row ${i} (${rowPtr[i]} → ${rowPtr[i + 1]})`);
      }
      const nnz = rowPtr[inDim];
      if (nnz > inDim * outDim) fail(`${what}: ${nnz} nonzeros exceed ${shape}`);
      assertLength(what, 'colIdx', colIdx.length, nnz, 'rowPtr[in]');
      assertLength(what, 'values', values.length, nnz, 'rowPtr[in]');
      for (let k = 0; k < nnz; k++) {
        if (colIdx[k] >= outDim) fail(`${what}: colIdx[${k}] = ${colIdx[k]} is out of range for ${outDim} outputs`);
      }
      break;
    }
    case 'int8-dynamic':
    case 'int8-full': {
      const { weights, weightScales, bias } = model.layers[l];
      assertLength(what, 'weights', weights.length, inDim * outDim, shape);
      assertLength(what, 'weightScales', weightScales.length, outDim, `${outDim}`);
      assertLength(what, 'bias', bias.length, outDim, `${outDim}`);
      for (let k = 0; k < weights.length; k++) {
        if (weights[k] === -128) fail(`${what}: weights[${k}] is −128, symmetric int8 weights lie in [−127, 127]`);
      }
      for (let o = 0; o < outDim; o++) assertScale(`${what} weightScales[${o}]`, weightScales[o]);
      // Integer accumulators must stay exact and within int32 (see kernels.ts).
      if (inDim > 66_000) fail(`${what}: inDim ${inDim} is too large for int32 accumulation (max 66000)`);
      break;
    }
    default:
      fail(`unknown model kind ${JSON.stringify((model as { kind: unknown }).kind)}`);
  }
}

/**
 * Checks an architecture model: a valid architecture without BatchNorm (inference models have it
 * folded), one layer per conv/dense op with arrays of that op's [in, out] matrix, and for
 * int8-full a quantization for every tensor, maxpool outputs sharing their input's.
 */
export function assertArchModel(model: ArchCompactModel): void {
  const kind = model.kind;
  const arch = model.arch;
  let shapes: ReturnType<typeof tensorShapes>;
  try {
    checkArch(arch);
    shapes = tensorShapes(arch);
  } catch (err) {
    if (err instanceof ArchError) fail(`${kind} model: architecture: ${err.message}`);
    fail(`${kind} model: architecture is malformed (${(err as Error).message})`);
  }
  const weighted = arch.ops.filter((op) => op.op === 'conv' || op.op === 'dense');
  for (const op of weighted) {
    if (op.op === 'conv' && op.batchNorm) fail(`${kind} model: conv '${op.name}' still has BatchNorm; inference models carry it folded into kernel and bias`);
  }
  if (!Array.isArray(model.layers) || model.layers.length !== weighted.length) {
    fail(`${kind} model: ${Array.isArray(model.layers) ? model.layers.length : 'no'} layers, architecture ${arch.name} has ${weighted.length} conv/dense ops`);
  }
  const dims = layerDims(arch);
  weighted.forEach((op, l) => {
    const name = op.name;
    assertLayer(model, l, dims[l][0], dims[l][1], `${kind} model layer ${l} ('${name}')`);
  });
  if (model.kind === 'int8-full') {
    const acts = model.activations;
    if (typeof acts !== 'object' || acts === null) fail('int8-full model: activations must map every tensor name to { scale, zeroPoint }');
    for (const name of shapes.keys()) {
      const a = acts[name];
      if (typeof a !== 'object' || a === null) fail(`int8-full model: no activation quantization for tensor '${name}'`);
      assertScale(`int8-full model activations['${name}']`, a.scale);
      if (!Number.isInteger(a.zeroPoint) || a.zeroPoint < -128 || a.zeroPoint > 127) {
        fail(`int8-full model activations['${name}']: zeroPoint must be an integer in [−128, 127], got ${a.zeroPoint}`);
      }
    }
    for (const op of arch.ops) {
      if (op.op === 'maxpool' && (acts[op.output].scale !== acts[op.input].scale || acts[op.output].zeroPoint !== acts[op.input].zeroPoint)) {
        fail(`int8-full model: maxpool '${op.output}' must have the quantization of its input '${op.input}' (pooling runs on codes)`);
      }
    }
  }
}
