import type { Architecture } from './arch.ts';
import { type ClassArray, classBytesFor, newClassArray } from '../class-array.ts';
import { decodeFloat16Array } from './float16.ts';
import { quantizeActivation } from './int8.ts';
import { argmax, denseLayer, int8DynamicLayer, int8FullLayer, sparseLayer, storeActivation } from './kernels.ts';
import { archForward } from './arch-predictor.ts';
import type { ArchCompactModel, CompactModel, DenseF32Model, Int8DynamicModel, Int8FullModel, ModelKind, SparseF32Model } from './types.ts';
import { assertModel } from './validate.ts';
import { loadWasmArchModel } from './wasm/arch.ts';
import { loadWasmModel, type WasmModel } from './wasm/predictor.ts';
import { wasmKernels, type WasmKernels } from './wasm/runtime.ts';

export interface Predictor {
  readonly kind: ModelKind;
  /** MLP: the layer widths; architecture models: [h·w·c, classes]. */
  readonly dims: readonly number[];
  /** The architecture of an architecture model (BatchNorm folded); absent for MLP models. */
  readonly arch?: Architecture;
  /**
   * Logits of one image (x: [dims[0]], values in [0, 1]). Writes into `out` ([dims.at(-1)])
   * when given, so a caller that passes it allocates nothing per image.
   */
  logits(x: Float32Array, out?: Float32Array): Float32Array;
  /** Predicted class of each of n images (xs: [n × dims[0]]); ties go to the smallest class. */
  /** Predicted classes, one byte each up to 256 classes and two above (lib/class-array.ts). */
  predictBatch(xs: Float32Array, n: number): ClassArray;
  /** Which kernels run it: the WebAssembly SIMD kernels, or the JS reference kernels. */
  readonly kernels: 'wasm' | 'js';
  /** Bytes of weights the predictor holds (for the wasm kernels: in their linear memory). */
  readonly memoryBytes: number;
  /** Frees the weights (wasm memory is reused by later models); the predictor is unusable after. */
  release(): void;
}

/**
 * Architecture models (convolutional nets), on the wasm kernels when installed, else on the JS
 * reference kernels. `dims` is [h·w·c, classes]: the flattened HWC image in, the logits out.
 */
function archPredictor(model: ArchCompactModel, rt: ReturnType<typeof wasmKernels>): Predictor {
  // Every kind runs on the wasm kernels when installed (lib/model/wasm/arch.ts).
  const wm = rt ? loadWasmArchModel(rt, model) : null;
  const forward = wm ? wm.forward : archForward(model);
  const [h, w, c] = model.arch.input;
  const inDim = h * w * c;
  const outDim = model.arch.classes;
  const batchLogits = new Float32Array(outDim);
  const memoryBytes = wm ? wm.bytes : model.layers.reduce((a, layer) => a + Object.values(layer).reduce((b, v) => b + (v as ArrayBufferView).byteLength, 0), 0) +
    (model.kind === 'f16' ? model.layers.reduce((a, layer) => a + layer.weights.length * 4, 0) : 0); // the decoded float32 copy
  return {
    kind: model.kind,
    dims: [inDim, outDim],
    arch: model.arch,
    kernels: wm ? 'wasm' : 'js',
    memoryBytes,
    release() { wm?.release(); },
    logits(x, out = new Float32Array(outDim)) {
      if (x.length !== inDim) throw new RangeError(`logits: image has ${x.length} values, model expects ${inDim} (${h}×${w}×${c})`);
      if (out.length < outDim) throw new RangeError(`logits: out has room for ${out.length} values, model gives ${outDim}`);
      forward(x, 0, out);
      return out;
    },
    predictBatch(xs, n) {
      checkBatch(xs, n, inDim, outDim);
      const labels = newClassArray(n, classBytesFor(outDim));
      for (let k = 0; k < n; k++) {
        forward(xs, k * inDim, batchLogits);
        labels[k] = argmax(batchLogits);
      }
      return labels;
    },
  };
}

export interface PredictorOptions {
  /**
   * 'auto' (default): the WebAssembly kernels when the host has installed them
   * (installKernels), else the JS kernels. 'js': the JS reference kernels (float64 sums).
   */
  kernels?: 'auto' | 'js';
}

/** Writes the logits of the image at xs[off .. off + dims[0]) into out. */
type Forward = (xs: Float32Array, off: number, out: Float32Array) => void;

/**
 * A predictor for any compact model: the one code path behind both the trainer's evaluation and
 * the API's live predictions. Validates the model once; scratch buffers are allocated here,
 * so a predictor is not reentrant (create one per concurrent user; they are cheap).
 */
export function createPredictor(model: CompactModel, options: PredictorOptions = {}): Predictor {
  assertModel(model);
  if (model.arch !== undefined) return archPredictor(model, options.kernels === 'js' ? null : wasmKernels());
  const dims = [...model.dims];
  const inDim = dims[0];
  const outDim = dims[dims.length - 1];
  const rt = options.kernels === 'js' ? null : wasmKernels();
  if (rt) return wasmPredictor(model, rt, loadWasmModel(rt, model), inDim, outDim);
  let forward: Forward;
  switch (model.kind) {
    case 'dense-f32':
      forward = denseForward(model);
      break;
    case 'f16':
      // Decode once into a float32 working copy; the dense kernel then runs unchanged.
      forward = denseForward({
        kind: 'dense-f32',
        dims,
        layers: model.layers.map((layer) => ({ weights: decodeFloat16Array(layer.weights), bias: layer.bias })),
      });
      break;
    case 'sparse-f32':
      forward = sparseForward(model);
      break;
    case 'int8-dynamic':
      forward = int8DynamicForward(model);
      break;
    case 'int8-full':
      forward = int8FullForward(model);
      break;
  }
  const batchLogits = new Float32Array(outDim);
  const memoryBytes = model.layers.reduce((a, layer) => a + Object.values(layer).reduce((b, v) => b + (v as ArrayBufferView).byteLength, 0), 0) +
    (model.kind === 'f16' ? model.layers.reduce((a, layer) => a + layer.weights.length * 4, 0) : 0); // the decoded float32 copy
  return {
    kind: model.kind,
    dims,
    kernels: 'js',
    memoryBytes,
    release() {},
    logits(x, out = new Float32Array(outDim)) {
      if (x.length !== inDim) throw new RangeError(`logits: image has ${x.length} values, model expects ${inDim}`);
      if (out.length < outDim) throw new RangeError(`logits: out has room for ${out.length} values, model gives ${outDim}`);
      forward(x, 0, out);
      return out;
    },
    predictBatch(xs, n) {
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`predictBatch: n must be a non-negative integer, got ${n}`);
      if (xs.length < n * inDim) throw new RangeError(`predictBatch: ${xs.length} values cannot hold ${n} images of ${inDim}`);
      const labels = newClassArray(n, classBytesFor(outDim));
      for (let k = 0; k < n; k++) {
        forward(xs, k * inDim, batchLogits);
        labels[k] = argmax(batchLogits);
      }
      return labels;
    },
  };
}

function checkBatch(xs: Float32Array, n: number, inDim: number, outDim: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`predictBatch: n must be a non-negative integer, got ${n}`);
  if (xs.length < n * inDim) throw new RangeError(`predictBatch: ${xs.length} values cannot hold ${n} images of ${inDim}`);
}

/** The WebAssembly model behind each MLP predictor on the wasm kernels (for predictEach). */
const wasmModels = new WeakMap<Predictor, { rt: WasmKernels; wm: WasmModel }>();
/** Per runtime, an allocation that holds the image predictEach runs (apart from the models' scratch). */
const imageSlots = new WeakMap<WasmKernels, { ptr: number; bytes: number }>();

/**
 * The predicted class of one image (x: [dims[0]], values in [0, 1]) by each predictor, written to
 * out[offset + k]: argmax of its logits, ties to the smallest class — what argmax(p.logits(x))
 * gives. MLP predictors on the WebAssembly kernels (a level's K members on a live prediction)
 * share one copy of the image in the kernels' memory, and only the class leaves it.
 */
export function predictEach(predictors: readonly Predictor[], x: Float32Array, out: ClassArray, offset = 0): void {
  let slotOf: WasmKernels | null = null, ptr = 0;
  predictors.forEach((p, k) => {
    if (x.length !== p.dims[0]) throw new RangeError(`predictEach: image has ${x.length} values, model expects ${p.dims[0]}`);
    const w = wasmModels.get(p);
    if (!w) {
      out[offset + k] = argmax(p.logits(x));
      return;
    }
    if (w.rt !== slotOf) {
      slotOf = w.rt;
      let slot = imageSlots.get(w.rt);
      if (!slot || slot.bytes < x.byteLength) {
        if (slot) w.rt.release(slot.ptr);
        imageSlots.set(w.rt, slot = { ptr: w.rt.alloc(x.byteLength), bytes: x.byteLength });
      }
      ptr = slot.ptr;
      w.rt.f32().set(x, ptr >> 2);
    }
    out[offset + k] = w.wm.label(ptr);
  });
}

function wasmPredictor(model: CompactModel, rt: WasmKernels, wm: WasmModel, inDim: number, outDim: number): Predictor {
  const predictor: Predictor = {
    kind: model.kind,
    dims: wm.dims,
    kernels: 'wasm',
    memoryBytes: wm.bytes,
    release: () => wm.release(),
    logits(x, out = new Float32Array(outDim)) {
      if (x.length !== inDim) throw new RangeError(`logits: image has ${x.length} values, model expects ${inDim}`);
      if (out.length < outDim) throw new RangeError(`logits: out has room for ${out.length} values, model gives ${outDim}`);
      wm.forward(x, 0, 1, out, null, 0);
      return out;
    },
    predictBatch(xs, n) {
      checkBatch(xs, n, inDim, outDim);
      const labels = newClassArray(n, classBytesFor(outDim));
      wm.forward(xs, 0, n, null, labels, 0);
      return labels;
    },
  };
  wasmModels.set(predictor, { rt, wm });
  return predictor;
}

function hiddenBuffers(dims: number[]): Float32Array[] {
  return dims.slice(1, -1).map((d) => new Float32Array(d));
}

function denseForward(model: DenseF32Model): Forward {
  const { dims, layers } = model;
  const L = layers.length;
  const acc = new Float64Array(Math.max(...dims));
  const hidden = hiddenBuffers(dims);
  return (xs, off, out) => {
    let x = xs;
    let xOff = off;
    for (let l = 0; l < L; l++) {
      denseLayer(x, xOff, dims[l], dims[l + 1], layers[l].weights, layers[l].bias, acc);
      const last = l === L - 1;
      const y = last ? out : hidden[l];
      storeActivation(acc, y, dims[l + 1], !last);
      x = y;
      xOff = 0;
    }
  };
}

function sparseForward(model: SparseF32Model): Forward {
  const { dims, layers } = model;
  const L = layers.length;
  const acc = new Float64Array(Math.max(...dims));
  const hidden = hiddenBuffers(dims);
  return (xs, off, out) => {
    let x = xs;
    let xOff = off;
    for (let l = 0; l < L; l++) {
      sparseLayer(x, xOff, dims[l], dims[l + 1], layers[l], acc);
      const last = l === L - 1;
      const y = last ? out : hidden[l];
      storeActivation(acc, y, dims[l + 1], !last);
      x = y;
      xOff = 0;
    }
  };
}

function int8DynamicForward(model: Int8DynamicModel): Forward {
  const { dims, layers } = model;
  const L = layers.length;
  const qx = new Int8Array(Math.max(...dims));
  const acc = new Int32Array(Math.max(...dims));
  const hidden = hiddenBuffers(dims);
  return (xs, off, out) => {
    let x = xs;
    let xOff = off;
    for (let l = 0; l < L; l++) {
      const { weights, weightScales, bias } = layers[l];
      const last = l === L - 1;
      const y = last ? out : hidden[l];
      int8DynamicLayer(x, xOff, dims[l], dims[l + 1], weights, weightScales, bias, qx, acc, y, !last);
      x = y;
      xOff = 0;
    }
  };
}

function int8FullForward(model: Int8FullModel): Forward {
  const { dims, layers, activations } = model;
  const L = layers.length;
  // M[o] = s_in · s_w[o] / s_out per layer, computed once in float64 (see int8FullLayer).
  const multipliers = layers.map((layer, l) => {
    const sIn = activations[l].scale;
    const sOut = activations[l + 1].scale;
    return Float64Array.from(layer.weightScales, (sw) => (sIn * sw) / sOut);
  });
  const codes = dims.map((d) => new Int8Array(d)); // codes[l]: input of layer l; codes[L]: logits
  const acc = new Int32Array(Math.max(...dims));
  const { scale: s0, zeroPoint: zp0 } = activations[0];
  const { scale: sLast, zeroPoint: zpLast } = activations[L];
  const outDim = dims[L];
  return (xs, off, out) => {
    const q0 = codes[0];
    for (let i = 0; i < dims[0]; i++) q0[i] = quantizeActivation(xs[off + i], s0, zp0);
    for (let l = 0; l < L; l++) {
      const zpOut = activations[l + 1].zeroPoint;
      const lo = l === L - 1 ? -128 : zpOut; // fused ReLU: codes below zp_out are negative reals
      const { weights, bias } = layers[l];
      int8FullLayer(codes[l], activations[l].zeroPoint, dims[l], dims[l + 1], weights, bias, multipliers[l], zpOut, lo, acc, codes[l + 1]);
    }
    // Dequantize the int8 logits: (q − zp) · s. Monotone, so the argmax is the int8 argmax.
    const qLast = codes[L];
    for (let o = 0; o < outDim; o++) out[o] = (qLast[o] - zpLast) * sLast;
  };
}
