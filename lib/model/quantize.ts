import { activationQuantization, clamp, quantizeWeightColumns, roundHalfAway } from './int8.ts';
import { denseLayer, storeActivation } from './kernels.ts';
import type { ActivationQuantization, Int8DynamicModel, Int8FullModel, MlpWeights } from './types.ts';
import { assertMlpWeights } from './validate.ts';

/** int8 weights (symmetric, per output channel), float biases; activations quantized at run time. */
export function quantizeInt8Dynamic(w: MlpWeights): Int8DynamicModel {
  assertMlpWeights(w);
  return {
    kind: 'int8-dynamic',
    dims: [...w.dims],
    layers: w.layers.map((layer) => ({
      ...quantizeWeightColumns(layer.weights, layer.inDim, layer.outDim),
      bias: layer.bias.slice(),
    })),
  };
}

export interface QuantizeInt8FullOptions {
  /**
   * Which range calibrates a hidden layer's output (= the next layer's input).
   * - `'post-relu'` (default): the ReLU output, [0, max]. This is what TFLite calibrates for
   *   an op with a fused ReLU, and it spends all 256 codes on values the next layer can see.
   * - `'pre-relu'`: the pre-activation range [min, max] (widened to include 0); the fused
   *   ReLU then clamps at the zero point and the codes below it go unused.
   * The last layer (logits, no ReLU) is always calibrated on its pre-activation range.
   */
  hiddenRange?: 'post-relu' | 'pre-relu';
}

/**
 * Full integer quantization calibrated on `n` images (`calibration`: [n × dims[0]], values in
 * [0, 1]; the method uses the first 100 training images).
 *
 * 1. Float forward passes record, per layer, the min and max over all images and units of the
 *    layer's input and of its pre-activation output.
 * 2. Each activation tensor gets asymmetric int8 parameters from its range widened to contain 0
 *    (see `activationQuantization`): the image input uses [0, 1] (pixel / 255; the 256 pixel
 *    values land on 256 distinct codes), widened further if the data leave it.
 * 3. Weights: symmetric per output channel, as for dynamic range quantization.
 * 4. Bias: int32 with scale s_in · s_w[o] (exact: a product of two float32s fits a float64)
 *    and zero point 0: qb[o] = clamp(roundHalfAway(b[o] / (s_in · s_w[o])), −2^31, 2^31 − 1).
 */
export function quantizeInt8Full(
  w: MlpWeights,
  calibration: Float32Array,
  n: number,
  options: QuantizeInt8FullOptions = {},
): Int8FullModel {
  assertMlpWeights(w);
  const { dims } = w;
  const hiddenRange = options.hiddenRange ?? 'post-relu';
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`quantizeInt8Full: need at least 1 calibration image, got n = ${n}`);
  if (calibration.length < n * dims[0]) {
    throw new RangeError(`quantizeInt8Full: calibration holds ${calibration.length} values, expected ${n} × ${dims[0]}`);
  }

  const L = w.layers.length;
  let inMin = 0;
  let inMax = 1;
  for (let k = 0; k < n * dims[0]; k++) {
    const v = calibration[k];
    if (v < inMin) inMin = v;
    if (v > inMax) inMax = v;
  }
  const preMin = new Float64Array(L).fill(Infinity);
  const preMax = new Float64Array(L).fill(-Infinity);
  const acc = new Float64Array(Math.max(...dims));
  const hidden = dims.slice(1, -1).map((d) => new Float32Array(d));
  for (let img = 0; img < n; img++) {
    let x = calibration;
    let xOff = img * dims[0];
    for (let l = 0; l < L; l++) {
      const { inDim, outDim, weights, bias } = w.layers[l];
      denseLayer(x, xOff, inDim, outDim, weights, bias, acc);
      for (let o = 0; o < outDim; o++) {
        const v = Math.fround(acc[o]); // the value the float model stores
        if (v < preMin[l]) preMin[l] = v;
        if (v > preMax[l]) preMax[l] = v;
      }
      if (l < L - 1) {
        storeActivation(acc, hidden[l], outDim, true);
        x = hidden[l];
        xOff = 0;
      }
    }
  }

  const activations: ActivationQuantization[] = [activationQuantization(inMin, inMax)];
  for (let l = 0; l < L; l++) {
    const last = l === L - 1;
    const min = !last && hiddenRange === 'post-relu' ? 0 : preMin[l];
    activations.push(activationQuantization(min, preMax[l]));
  }

  const layers = w.layers.map((layer, l) => {
    const q = quantizeWeightColumns(layer.weights, layer.inDim, layer.outDim);
    const sIn = activations[l].scale;
    const bias = new Int32Array(layer.outDim);
    for (let o = 0; o < layer.outDim; o++) {
      bias[o] = clamp(roundHalfAway(layer.bias[o] / (sIn * q.weightScales[o])), -2147483648, 2147483647);
    }
    return { ...q, bias };
  });
  return { kind: 'int8-full', dims: [...dims], layers, activations };
}
