/**
 * Architectures as plain descriptions: a list of operations over named tensors. The trainer
 * builds its forward and backward passes from it, the kernels and the model file read it, the
 * API runs it — one definition, so they cannot drift.
 *
 * Tensors are HWC (height, width, channels), one image at a time, like the pixels on disk;
 * `dense` flattens its input in that order. The input tensor is named 'input'.
 *
 * Parameters of an op called `name` (float32, row-major):
 *   conv:  `name.kernel` [kernel, kernel, inChannels, filters] (HWIO, tfjs's conv2d layout),
 *          `name.bias` [filters] (only without BatchNorm),
 *          with BatchNorm: `name.gamma`, `name.beta`, `name.mean`, `name.variance` [filters];
 *   dense: `name.kernel` [in, units], `name.bias` [units].
 * Prunable tensors are the kernels (each with its own threshold, METHOD.md); biases and BatchNorm
 * parameters are never pruned.
 */

export type Shape3 = [height: number, width: number, channels: number];

export type Op =
  | {
      op: 'conv';
      name: string;
      input: string;
      output: string;
      filters: number;
      /** Square kernel side. */
      kernel: number;
      stride: number;
      /** Zero padding on every side. */
      padding: number;
      /** BatchNorm after the convolution (inference folds it into kernel and bias). */
      batchNorm: boolean;
      relu: boolean;
    }
  | { op: 'maxpool'; input: string; output: string; size: number; stride: number }
  /** Residual sum of two tensors of one shape, then an optional ReLU. */
  | { op: 'add'; inputs: [string, string]; output: string; relu: boolean }
  /** Global average pooling: [h, w, c] → [1, 1, c]. */
  | { op: 'gap'; input: string; output: string }
  | { op: 'dense'; name: string; input: string; output: string; units: number; relu: boolean };

export type ArchName = 'mlp' | 'lenet5' | 'resnet';

export interface Architecture {
  name: ArchName;
  input: Shape3;
  classes: number;
  ops: Op[];
  /** The tensor holding the logits, [1, 1, classes]. */
  output: string;
}

export interface ParamSpec {
  name: string;
  shape: number[];
  prunable: boolean;
}

export class ArchError extends Error {
  override name = 'ArchError';
}

/** LeNet-300-100 and its kin: dense layers over the flattened image. */
export function mlpArch(input: Shape3, classes: number, hidden: number[] = [300, 100]): Architecture {
  const ops: Op[] = [];
  let prev = 'input';
  [...hidden, classes].forEach((units, i) => {
    const output = `fc${i + 1}`;
    ops.push({ op: 'dense', name: output, input: prev, output, units, relu: i < hidden.length });
    prev = output;
  });
  return checkArch({ name: 'mlp', input, classes, ops, output: prev });
}

export interface Lenet5Options {
  /** Filters of the two 5×5 conv layers (LeCun et al. 1998: 6, 16). */
  conv?: [number, number];
  /** Hidden dense widths after the convolutions (120, 84). */
  dense?: number[];
}

/**
 * LeNet-5 style: conv 5×5 (padding 2) → ReLU → maxpool 2 → conv 5×5 → ReLU → maxpool 2 → dense
 * layers. 28×28 input: 28 → 14 → 10 → 5, so 5·5·16 = 400 features reach the first dense layer.
 */
export function lenet5Arch(input: Shape3, classes: number, options: Lenet5Options = {}): Architecture {
  const [c1, c2] = options.conv ?? [6, 16];
  const hidden = options.dense ?? [120, 84];
  const ops: Op[] = [
    { op: 'conv', name: 'conv1', input: 'input', output: 'conv1', filters: c1, kernel: 5, stride: 1, padding: 2, batchNorm: false, relu: true },
    { op: 'maxpool', input: 'conv1', output: 'pool1', size: 2, stride: 2 },
    { op: 'conv', name: 'conv2', input: 'pool1', output: 'conv2', filters: c2, kernel: 5, stride: 1, padding: 0, batchNorm: false, relu: true },
    { op: 'maxpool', input: 'conv2', output: 'pool2', size: 2, stride: 2 },
  ];
  let prev = 'pool2';
  [...hidden, classes].forEach((units, i) => {
    const output = `fc${i + 1}`;
    ops.push({ op: 'dense', name: output, input: prev, output, units, relu: i < hidden.length });
    prev = output;
  });
  return checkArch({ name: 'lenet5', input, classes, ops, output: prev });
}

export interface ResnetOptions {
  /** 6n + 2 layers with n residual blocks per stage: 8, 14, 20, … (He et al. 2016, §4.2). */
  depth?: number;
  /** Filters of the first stage; the next two double it (16 → 32 → 64). */
  width?: number;
}

/**
 * He et al.'s CIFAR ResNets: conv 3×3 + BN + ReLU, three stages of n basic blocks
 * (conv-BN-ReLU-conv-BN, + shortcut, ReLU), the 2nd and 3rd stage starting with stride 2, then
 * global average pooling and one dense layer. Shortcuts are the identity where shapes agree and a
 * 1×1 conv with stride 2 + BN where they do not (the paper's option B).
 */
export function resnetArch(input: Shape3, classes: number, options: ResnetOptions = {}): Architecture {
  const depth = options.depth ?? 20;
  const width = options.width ?? 16;
  if (!Number.isInteger(depth) || depth < 8 || (depth - 2) % 6 !== 0) {
    throw new ArchError(`resnet depth must be 6n + 2 with n ≥ 1 (8, 14, 20, …), got ${depth}`);
  }
  const n = (depth - 2) / 6;
  const conv = (name: string, inp: string, filters: number, kernel: number, stride: number, relu: boolean): Op => ({
    op: 'conv', name, input: inp, output: name, filters, kernel, stride, padding: (kernel - 1) / 2, batchNorm: true, relu,
  });
  const ops: Op[] = [conv('conv1', 'input', width, 3, 1, true)];
  let prev = 'conv1';
  let channels = width;
  for (let stage = 0; stage < 3; stage++) {
    const filters = width << stage;
    for (let block = 0; block < n; block++) {
      const id = `s${stage + 1}b${block + 1}`;
      const stride = stage > 0 && block === 0 ? 2 : 1;
      ops.push(conv(`${id}.conv1`, prev, filters, 3, stride, true));
      ops.push(conv(`${id}.conv2`, `${id}.conv1`, filters, 3, 1, false));
      let shortcut = prev;
      if (stride !== 1 || channels !== filters) {
        ops.push(conv(`${id}.proj`, prev, filters, 1, stride, false));
        shortcut = `${id}.proj`;
      }
      ops.push({ op: 'add', inputs: [`${id}.conv2`, shortcut], output: `${id}.out`, relu: true });
      prev = `${id}.out`;
      channels = filters;
    }
  }
  ops.push({ op: 'gap', input: prev, output: 'gap' });
  ops.push({ op: 'dense', name: 'fc', input: 'gap', output: 'fc', units: classes, relu: false });
  return checkArch({ name: 'resnet', input, classes, ops, output: 'fc' });
}

/** Output length of a conv or pooling window along one axis. */
export function windowOut(size: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((size + 2 * padding - kernel) / stride) + 1;
}

/** The shape of every tensor, input included; throws ArchError naming the op that does not fit. */
export function tensorShapes(arch: Architecture): Map<string, Shape3> {
  const shapes = new Map<string, Shape3>([['input', arch.input]]);
  const get = (name: string, by: string): Shape3 => {
    const s = shapes.get(name);
    if (!s) throw new ArchError(`${by} reads tensor '${name}', which no earlier op writes`);
    return s;
  };
  for (const op of arch.ops) {
    const by = `${op.op} '${'name' in op ? op.name : op.output}'`;
    if (shapes.has(op.output)) throw new ArchError(`${by} writes tensor '${op.output}' a second time`);
    let out: Shape3;
    switch (op.op) {
      case 'conv': {
        const [h, w] = get(op.input, by);
        out = [windowOut(h, op.kernel, op.stride, op.padding), windowOut(w, op.kernel, op.stride, op.padding), op.filters];
        break;
      }
      case 'maxpool': {
        const [h, w, c] = get(op.input, by);
        out = [windowOut(h, op.size, op.stride, 0), windowOut(w, op.size, op.stride, 0), c];
        break;
      }
      case 'add': {
        const a = get(op.inputs[0], by), b = get(op.inputs[1], by);
        if (a.join() !== b.join()) throw new ArchError(`${by} adds tensors of shapes [${a}] and [${b}]`);
        out = [...a];
        break;
      }
      case 'gap':
        out = [1, 1, get(op.input, by)[2]];
        break;
      case 'dense':
        get(op.input, by);
        out = [1, 1, op.units];
        break;
    }
    if (out.some((d) => !Number.isInteger(d) || d < 1)) throw new ArchError(`${by} gives an empty output [${out}]`);
    shapes.set(op.output, out);
  }
  return shapes;
}

/** Every parameter tensor, in op order (the order of the model file and of the trainer's variables). */
export function paramSpecs(arch: Architecture): ParamSpec[] {
  const shapes = tensorShapes(arch);
  const specs: ParamSpec[] = [];
  for (const op of arch.ops) {
    if (op.op === 'conv') {
      const inC = shapes.get(op.input)![2];
      specs.push({ name: `${op.name}.kernel`, shape: [op.kernel, op.kernel, inC, op.filters], prunable: true });
      if (op.batchNorm) {
        for (const p of ['gamma', 'beta', 'mean', 'variance']) specs.push({ name: `${op.name}.${p}`, shape: [op.filters], prunable: false });
      } else {
        specs.push({ name: `${op.name}.bias`, shape: [op.filters], prunable: false });
      }
    } else if (op.op === 'dense') {
      const inDim = shapes.get(op.input)!.reduce((a, b) => a * b, 1);
      specs.push({ name: `${op.name}.kernel`, shape: [inDim, op.units], prunable: true });
      specs.push({ name: `${op.name}.bias`, shape: [op.units], prunable: false });
    }
  }
  return specs;
}

/** Multiply-accumulates of one image's forward pass (convolutions and dense layers). */
export function forwardMacs(arch: Architecture): number {
  const shapes = tensorShapes(arch);
  let macs = 0;
  for (const op of arch.ops) {
    if (op.op === 'conv') {
      const [h, w] = shapes.get(op.output)!;
      macs += h * w * op.filters * op.kernel * op.kernel * shapes.get(op.input)![2];
    } else if (op.op === 'dense') {
      macs += shapes.get(op.input)!.reduce((a, b) => a * b, 1) * op.units;
    }
  }
  return macs;
}

/** Validates names and shapes, and that the output is [1, 1, classes]. Returns the architecture. */
export function checkArch(arch: Architecture): Architecture {
  const names = new Set<string>();
  for (const op of arch.ops) {
    if ('name' in op) {
      if (names.has(op.name)) throw new ArchError(`two ops are named '${op.name}'`);
      names.add(op.name);
    }
  }
  const out = tensorShapes(arch).get(arch.output);
  if (!out) throw new ArchError(`output tensor '${arch.output}' is not written by any op`);
  if (out.join() !== `1,1,${arch.classes}`) throw new ArchError(`output '${arch.output}' has shape [${out}], expected [1,1,${arch.classes}]`);
  return arch;
}

/** BatchNorm's epsilon, as in tf.layers.batchNormalization and torch.nn.BatchNorm2d (1e-3 / 1e-5: we use 1e-5). */
export const BATCH_NORM_EPSILON = 1e-5;
