import { decodeFloat16Array, encodeFloat16Array } from './float16.ts';
import type {
  CompactModel,
  DenseF32Model,
  F16Model,
  LayerSparsity,
  MlpWeights,
  SparseF32Layer,
  SparseF32Model,
} from './types.ts';
import { layerDims } from './arch-layers.ts';
import { ModelFormatError, assertMlpWeights, assertModel } from './validate.ts';

/* Lossless and float16 conversions from trained weights. Every conversion copies its input. */

export function toDenseModel(w: MlpWeights): DenseF32Model {
  assertMlpWeights(w);
  return {
    kind: 'dense-f32',
    dims: [...w.dims],
    layers: w.layers.map((layer) => ({ weights: layer.weights.slice(), bias: layer.bias.slice() })),
  };
}

/** CSR by input row, keeping exact zeros (±0) out. Lossless except that −0 becomes +0. */
export function toSparseModel(w: MlpWeights): SparseF32Model {
  assertMlpWeights(w);
  const layers = w.layers.map(({ inDim, outDim, weights, bias }) => toCsrLayer(weights, inDim, outDim, bias));
  return { kind: 'sparse-f32', dims: [...w.dims], layers };
}

/** The dense [in, out] row-major matrix of a CSR layer (zeros where nothing is stored). */
export function fromCsrLayer(
  layer: { rowPtr: Uint32Array; colIdx: Uint16Array; values: Float32Array },
  inDim: number,
  outDim: number,
  out = new Float32Array(inDim * outDim),
): Float32Array {
  const { rowPtr, colIdx, values } = layer;
  for (let i = 0; i < inDim; i++) for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) out[i * outDim + colIdx[k]] = values[k];
  return out;
}

/** One [inDim, outDim] row-major matrix in CSR by input row, exact zeros (±0) left out. */
export function toCsrLayer(weights: Float32Array, inDim: number, outDim: number, bias: Float32Array): SparseF32Layer {
  if (outDim > 65535) throw new RangeError(`toSparseModel: outDim ${outDim} does not fit a uint16 column index (max 65535)`);
  let nnz = 0;
  for (let k = 0; k < weights.length; k++) if (weights[k] !== 0) nnz++;
  const rowPtr = new Uint32Array(inDim + 1);
  const colIdx = new Uint16Array(nnz);
  const values = new Float32Array(nnz);
  let k = 0;
  for (let i = 0; i < inDim; i++) {
    const base = i * outDim;
    for (let o = 0; o < outDim; o++) {
      const v = weights[base + o];
      if (v !== 0) {
        colIdx[k] = o;
        values[k++] = v;
      }
    }
    rowPtr[i + 1] = k;
  }
  return { rowPtr, colIdx, values, bias: bias.slice() };
}

/** float16 weights (round to nearest even), float32 biases. */
export function quantizeFloat16(w: MlpWeights): F16Model {
  assertMlpWeights(w);
  return {
    kind: 'f16',
    dims: [...w.dims],
    layers: w.layers.map((layer) => ({ weights: encodeFloat16Array(layer.weights), bias: layer.bias.slice() })),
  };
}

/**
 * The float weights a compact model stands for: exact for dense, sparse and f16; for int8
 * kinds the dequantized weights q · scale (and, for int8-full, the dequantized bias).
 */
export function toMlpWeights(model: CompactModel): MlpWeights {
  assertModel(model);
  if (model.arch !== undefined) throw new ModelFormatError(`toMlpWeights: a ${model.arch.name} model is not an MLP (use toArchWeights)`);
  const { dims } = model;
  const layers = model.layers.map((_, l) => {
    const inDim = dims[l];
    const outDim = dims[l + 1];
    const weights = new Float32Array(inDim * outDim);
    let bias: Float32Array;
    switch (model.kind) {
      case 'dense-f32':
        weights.set(model.layers[l].weights);
        bias = model.layers[l].bias.slice();
        break;
      case 'sparse-f32':
        fromCsrLayer(model.layers[l], inDim, outDim, weights);
        bias = model.layers[l].bias.slice();
        break;
      case 'f16':
        weights.set(decodeFloat16Array(model.layers[l].weights));
        bias = model.layers[l].bias.slice();
        break;
      case 'int8-dynamic':
      case 'int8-full': {
        const { weights: q, weightScales } = model.layers[l];
        for (let k = 0; k < q.length; k++) weights[k] = q[k] * weightScales[k % outDim];
        if (model.kind === 'int8-dynamic') {
          bias = model.layers[l].bias.slice();
        } else {
          const sIn = model.activations[l].scale;
          const qb = model.layers[l].bias;
          bias = new Float32Array(outDim);
          for (let o = 0; o < outDim; o++) bias[o] = qb[o] * (sIn * weightScales[o]);
        }
        break;
      }
    }
    return { inDim, outDim, weights, bias };
  });
  return { dims: [...dims], layers };
}

/** Per-layer weight sparsity as stored (int8 rounding can zero out small weights too). */
export function sparsityOf(model: CompactModel): LayerSparsity[] {
  const dims = model.arch !== undefined ? layerDims(model.arch) : model.dims.slice(1).map((d, l): [number, number] => [model.dims[l], d]);
  return model.layers.map((_, l) => {
    const total = dims[l][0] * dims[l][1];
    let nonzeros = 0;
    switch (model.kind) {
      case 'sparse-f32':
        for (const v of model.layers[l].values) if (v !== 0) nonzeros++;
        break;
      case 'f16':
        for (const h of model.layers[l].weights) if ((h & 0x7fff) !== 0) nonzeros++;
        break;
      default:
        for (const v of model.layers[l].weights) if (v !== 0) nonzeros++;
    }
    return { nonzeros, total, sparsity: total === 0 ? 0 : 1 - nonzeros / total };
  });
}
