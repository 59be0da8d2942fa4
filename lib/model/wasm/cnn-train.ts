/**
 * Training steps of LeNet-5-style networks (stride-1 ReLU convs each read by one max pool, then
 * dense layers) on the project's WebAssembly kernels, as mlp-train.ts does for the MLP: weights,
 * Adam's moments, activations and gradients stay in linear memory from step to step; a batch's
 * images go in, the logits come out for the softmax and their gradient goes back.
 *
 * Why hand-written: on the tfjs wasm engine a LeNet-5 step reached a fifth to a quarter of the MLP's GFLOP/s:
 * it has no Conv2DBackpropFilter, only its plain matMul is fast, and every op is a round trip.
 *
 * A conv's forward product is a direct conv (cnn_conv_fwd), every other product mlp_gemm over
 * lists of a nonzero operand (cnn-train-source.ts says how a conv's gradients map onto it); every
 * parameter tensor is held as the MLP's layers are,
 * [in + 1, outPad] with the bias as row `in` (a conv's `in` is its k·k·c patch entries in HWIO
 * order, so its rows are the kernel's), with Adam's m, v and the gradient in the same layout and,
 * where an input gradient needs them, the weights transposed.
 *
 * Arithmetic: float32 sums in a fixed order (forward: patch entries ascending, bias last; a conv's
 * weight and bias gradients: its pool's outputs in order; a dense layer's: batch rows ascending),
 * so results differ from the tfjs path's in the last bits but not from run to run; max pooling's argmax is tfjs's; the softmax in float64 in JS; Adam is mlp_adam's
 * (tf.train.adam's float32 arithmetic, subnormals flushed).
 */
import { type Architecture, type Op, paramSpecs, tensorShapes } from '../arch.ts';
import type { ArchWeights } from '../arch-weights.ts';
import type { WasmKernels } from './runtime.ts';
import { EPILOGUE } from './mlp-train-source.ts';
import { pad4, readParams, setParamMask, sliceRows, softmaxCrossEntropy, WasmAdam, writeParams, type MlpAdamSettings, type ParamBlock } from './train-common.ts';

interface Exports {
  mlp_gemm(lists: number, listStride: number, counts: number, n: number, b: number, outPad: number, y: number, yStride: number,
    mode: number, h: number, hStride: number, acc: number): void;
  mlp_row_lists(x: number, n: number, d: number, xStride: number, rowBytes: number, lists: number, listStride: number, counts: number, bias: number): void;
  mlp_col_lists(x: number, n: number, d: number, xStride: number, rowBytes: number, lists: number, listStride: number, counts: number, bias: number): void;
  mlp_transpose(p: number, rows: number, cols: number, t: number, tStride: number): void;
  cnn_conv_fwd(xp: number, n: number, oh: number, ow: number, k: number, c: number, wpBytes: number, imgBytes: number, w: number, outPad: number, y: number): void;
  cnn_pool_fwd(y: number, n: number, ph: number, pw: number, F: number, size: number, s: number, yPix: number, yRow: number, yImg: number,
    out: number, outRow: number, outImg: number, arg: number): void;
  cnn_pool_bwd(out: number, dout: number, n: number, ph: number, pw: number, F: number, outRow: number, outImg: number, arg: number, s: number,
    dy: number, yPix: number, yRow: number, yImg: number, pixBytes: number, wpBytes: number, imgBytes: number,
    lists: number, listStride: number, counts: number, bias: number): void;
  cnn_conv_dx(lists: number, listStride: number, counts: number, n: number, oh: number, ow: number, k: number, t: number, kcp: number,
    dxp: number, wpBytes: number, imgBytes: number, pixBytes: number): void;
}


/**
 * Why an architecture cannot train here (null when it can): the kernels cover stride-1 convs with
 * bias and ReLU whose output one max pool alone reads (that pool's gradient is then also the
 * ReLU's), max pools over such convs, and dense layers, ReLU on all but the last, in one chain
 * from the image to the logits, starting with a conv. ResNets (BatchNorm, strided convs, residual
 * adds) train on the tfjs path.
 */
export function cnnKernelsUnsupported(arch: Architecture): string | null {
  const ops = arch.ops;
  if (ops.length === 0 || ops[0].op !== 'conv') return 'the first op is not a conv';
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i], prev = i === 0 ? 'input' : ops[i - 1].output;
    if (op.op === 'add' || op.op === 'gap') return `${op.op} ops are not covered`;
    if (op.input !== prev) return `op ${i} does not read the op before it`;
    const next = ops[i + 1];
    if (op.op === 'conv') {
      if (op.stride !== 1 || op.batchNorm || !op.relu) return `conv '${op.name}' is strided, has BatchNorm or no ReLU`;
      if (next?.op !== 'maxpool') return `conv '${op.name}' is not followed by a max pool`;
    }
    if (op.op === 'maxpool' && (next === undefined || (next.op !== 'conv' && next.op !== 'dense'))) return 'a max pool ends the net';
    if (op.op === 'dense' && (next === undefined ? op.relu : !op.relu || next.op !== 'dense')) return `dense '${op.name}': ReLU on all but the last, dense after dense`;
  }
  if (ops.filter((o) => o.output === arch.output).length !== 1 || ops[ops.length - 1].output !== arch.output) return 'the last op is not the output';
  return null;
}

/** A parameter tensor and its bias as the MLP holds a layer (see the file comment). Addresses in bytes. */
interface Block extends ParamBlock {
  name: string;
  /**
   * Weights transposed, for an input gradient, else 0: [outPad, pad4(inDim)], a conv's [outPad, k,
   * pad4(k·c)] (each patch row padded with zeros, for cnn_conv_dx).
   */
  t: number;
  /** A conv's kernel size and patch row length k·c (its transposed layout), else 0. */
  k: number; kc: number;
}

interface ConvLayer {
  kind: 'conv'; blk: Block;
  k: number; c: number; pad: number; h: number; w: number; hp: number; wp: number; oh: number; ow: number;
  /** Zero-padded input [B, hp, wp, c] (+ slack for the weight-gradient loads past a row's end) and its gradient (0 for the first conv). */
  xp: number; dxp: number;
  /**
   * One image's output after ReLU [oh·ow, outPad], pooled before the next image's is computed (only
   * the pool reads it, so it stays in cache), and the batch's gradient [B·oh·ow, outPad] (before the
   * ReLU: the pool's gradient applies its mask) where the conv's input gradient needs it, else 0.
   */
  y: number; dy: number;
}
interface PoolLayer {
  kind: 'pool'; conv: ConvLayer; size: number; s: number; ph: number; pw: number;
  /** Where the output goes (the next layer's input buffer) and its gradient comes from, with their strides. */
  out: number; dout: number; outRow: number; outImg: number;
  /** Window position (wy << 16 | wx) of each output's argmax, [B·ph·pw·F] i32. */
  arg: number;
}
interface DenseLayer {
  kind: 'dense'; blk: Block;
  /** Input rows (xStride bytes apart) and, unless the input is the image, their gradient. */
  x: number; dx: number; xStride: number;
  y: number; dy: number;
}
type Layer = ConvLayer | PoolLayer | DenseLayer;

/** Lists of a conv's input-gradient products are built a few images at a time, kept in L2. */
const LIST_CHUNK_BYTES = 256 * 1024;

export class WasmCnnTrainer {
  private readonly k: Exports;
  private readonly layers: Layer[] = [];
  private readonly blocks: Block[] = [];
  private readonly lists: number;
  private readonly counts: number;
  /** A conv's weight gradient transposed, [F, k, pad4(k·c)]. */
  private readonly dwt: number;
  /** A conv's weight-gradient lists, one per filter (cnn_pool_bwd makes them), and their lengths. */
  private readonly dwLists: number;
  private readonly dwCounts: number;
  private readonly owned: number[] = [];
  private readonly inDim: number;
  private readonly adam: WasmAdam;

  constructor(private readonly kern: WasmKernels, readonly arch: Architecture, init: ArchWeights, readonly batch: number, adam: MlpAdamSettings) {
    const why = cnnKernelsUnsupported(arch);
    if (why) throw new Error(`the CNN training kernels do not cover this ${arch.name}: ${why}`);
    this.k = kern.k as unknown as Exports;
    const B = batch;
    const shapes = tensorShapes(arch);
    const [ih, iw, ic] = arch.input;
    this.inDim = ih * iw * ic;
    const zeros = (floats: number) => {
      const ptr = kern.alloc(floats * 4 + 64);
      this.owned.push(ptr);
      kern.f32().fill(0, ptr >> 2, (ptr >> 2) + floats + 16);
      return ptr;
    };
    const block = (name: string, inDim: number, outDim: number, transposed: boolean, k = 0, kc = 0): Block => {
      const outPad = pad4(outDim), size = (inDim + 1) * outPad, tFloats = k ? outPad * k * pad4(kc) : outPad * pad4(inDim);
      const b: Block = { name, inDim, outDim, outPad, p: zeros(size), g: zeros(size), m: zeros(size), v: zeros(size), mask: 0, t: transposed ? zeros(tFloats) : 0, k, kc };
      this.blocks.push(b);
      return b;
    };
    let listBytes = 0, countRows = 0, dwtFloats = 0, dwListBytes = 0, dwCountRows = 0;
    const ops = arch.ops;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as Exclude<Op, { op: 'add' }>;
      const [h, w, c] = shapes.get(op.input)!, [oh, ow, oc] = shapes.get(op.output)!;
      const prev = this.layers[this.layers.length - 1];
      if (op.op === 'conv') {
        const { kernel: k, padding: pad } = op, K = k * k * c, hp = h + 2 * pad, wp = w + 2 * pad;
        const blk = block(op.name, K, op.filters, i > 0, k, k * c);
        const M = B * oh * ow, imgFloats = hp * wp * c;
        const xp = zeros(B * imgFloats), dxp = i > 0 ? zeros(B * imgFloats) : 0;
        const L: ConvLayer = { kind: 'conv', blk, k, c, pad, h, w, hp, wp, oh, ow, xp, dxp, y: zeros(oh * ow * blk.outPad), dy: i > 0 ? zeros(M * blk.outPad) : 0 };
        this.layers.push(L);
        listBytes = Math.max(listBytes, this.dxImages(L) * oh * ow * op.filters * 8);
        countRows = Math.max(countRows, this.dxImages(L) * oh * ow);
        dwtFloats = Math.max(dwtFloats, blk.outPad * k * pad4(k * c));
        if (i > 0) this.patch(prev as PoolLayer, L);
      } else if (op.op === 'maxpool') {
        const conv = prev as ConvLayer;
        this.layers.push({ kind: 'pool', conv, size: op.size, s: op.stride, ph: oh, pw: ow, out: 0, dout: 0, outRow: 0, outImg: 0, arg: zeros(B * oh * ow * oc) });
        // At most one entry per pool output in each filter's list.
        dwListBytes = Math.max(dwListBytes, oc * B * oh * ow * 8);
        dwCountRows = Math.max(dwCountRows, oc);
      } else if (op.op === 'dense') {
        const inDim = h * w * c;
        const blk = block(op.name, inDim, op.units, true);
        let x: number, dx: number, xStride: number;
        if (prev.kind === 'dense') {
          x = prev.y; dx = prev.dy; xStride = prev.blk.outPad * 4;
        } else {
          const pool = prev as PoolLayer;
          xStride = pad4(inDim) * 4;
          x = zeros(B * pad4(inDim)); dx = zeros(B * pad4(inDim));
          Object.assign(pool, { out: x, dout: dx, outRow: pool.pw * c * 4, outImg: xStride });
        }
        this.layers.push({ kind: 'dense', blk, x, dx, xStride, y: zeros(B * blk.outPad), dy: zeros(B * blk.outPad) });
        listBytes = Math.max(listBytes, B * (inDim + 1) * 8, B * blk.outPad * 8);
        countRows = Math.max(countRows, B, inDim + 1);
      }
    }
    this.lists = zeros(listBytes / 4);
    this.counts = zeros(countRows);
    this.dwt = zeros(dwtFloats);
    this.dwLists = zeros(dwListBytes / 4);
    this.dwCounts = zeros(dwCountRows);
    for (const b of this.blocks) this.setBlock(b, init.params[`${b.name}.kernel`], init.params[`${b.name}.bias`]);
    this.adam = new WasmAdam(kern, adam);
  }

  /** Images per call of a conv's input-gradient products (their lists in L2). */
  private dxImages(L: ConvLayer): number {
    return Math.max(1, Math.min(this.batch, Math.floor(LIST_CHUNK_BYTES / (L.oh * L.ow * L.blk.outDim * 8))));
  }

  /** A pool feeding a conv writes into the inside of that conv's padded input (and reads its gradient there). */
  private patch(pool: PoolLayer, conv: ConvLayer): void {
    const inner = ((conv.pad * conv.wp) + conv.pad) * conv.c * 4;
    Object.assign(pool, { out: conv.xp + inner, dout: conv.dxp + inner, outRow: conv.wp * conv.c * 4, outImg: conv.hp * conv.wp * conv.c * 4 });
  }

  /**
   * One step of Adam on the mean softmax cross-entropy of the examples `rows` of `images`
   * ([n, h·w·c] HWC row-major) with `labels`; returns that loss (before the update).
   */
  step(images: Float32Array, labels: ArrayLike<number>, rows: ArrayLike<number>): number {
    const loss = this.forwardBackward(images, labels, rows, true);
    this.adam.advance();
    return loss;
  }

  /** The loss and every parameter's gradient at the current weights, by parameter name; nothing updated. */
  gradients(images: Float32Array, labels: ArrayLike<number>, rows: ArrayLike<number>): { loss: number; grads: Record<string, Float32Array> } {
    const loss = this.forwardBackward(images, labels, rows, false);
    const grads: Record<string, Float32Array> = {};
    for (const b of this.blocks) {
      grads[`${b.name}.kernel`] = this.read(b.g, b, false);
      grads[`${b.name}.bias`] = this.read(b.g, b, true);
    }
    return { loss, grads };
  }

  /** Names of the prunable tensors (every kernel), in paramSpecs order. */
  get prunable(): string[] {
    return this.blocks.map((b) => `${b.name}.kernel`);
  }

  /** A kernel's values in its ArchWeights layout (a copy). */
  kernel(name: string): Float32Array {
    const b = this.blockOf(name);
    return this.read(b.p, b, false);
  }

  /**
   * Prunes a kernel from now on: weights where `mask` (its layout, 1 keep / 0 prune) is 0 become
   * 0 now and after every update.
   */
  setMask(name: string, mask: Float32Array): void {
    const L = this.blockOf(name);
    setParamMask(this.kern, L, mask, this.owned, name, 'kernel');
    this.transpose(L);
  }

  weights(): ArchWeights {
    const params: Record<string, Float32Array> = {};
    for (const { name } of paramSpecs(this.arch)) {
      const b = this.blockOf(name);
      params[name] = this.read(b.p, b, name.endsWith('.bias'));
    }
    return { arch: this.arch, params };
  }

  /** Gives the linear memory back; the trainer is unusable afterwards. */
  release(): void {
    for (const ptr of this.owned.splice(0)) this.kern.release(ptr);
  }

  private blockOf(param: string): Block {
    const name = param.slice(0, param.lastIndexOf('.'));
    const b = this.blocks.find((x) => x.name === name);
    if (!b) throw new Error(`no parameter tensor '${param}'`);
    return b;
  }

  private setBlock(L: Block, weights: Float32Array, bias: Float32Array): void {
    writeParams(this.kern, L, weights, bias);
    this.transpose(L);
  }

  private transpose(L: Block): void {
    if (!L.t) return;
    if (!L.k) {
      this.k.mlp_transpose(L.p, L.inDim, L.outPad, L.t, pad4(L.inDim) * 4);
      return;
    }
    // Patch row by patch row: t[f, ky, u] = W[ky·kc + u, f].
    const kcp = pad4(L.kc);
    for (let ky = 0; ky < L.k; ky++) this.k.mlp_transpose(L.p + ky * L.kc * L.outPad * 4, L.kc, L.outPad, L.t + ky * kcp * 4, L.k * kcp * 4);
  }

  private read(ptr: number, L: Block, bias: boolean): Float32Array {
    return readParams(this.kern, ptr, L, bias);
  }

  private forwardBackward(images: Float32Array, labels: ArrayLike<number>, rows: ArrayLike<number>, update: boolean): number {
    const { k, layers, lists, counts, batch: B } = this;
    if (rows.length !== B) throw new Error(`a step takes ${B} rows, got ${rows.length}`);
    let f32 = this.kern.f32();
    {
      // The batch into the first conv's padded input; its border stays zero from allocation.
      // Element by element: a subarray per image row costs more than the copy (allocations).
      const L = layers[0] as ConvLayer, rowLen = L.w * L.c, img = L.hp * L.wp * L.c;
      for (let j = 0; j < B; j++) {
        let src = rows[j] * this.inDim;
        for (let y = 0; y < L.h; y++) {
          const dst = (L.xp >> 2) + j * img + ((y + L.pad) * L.wp + L.pad) * L.c;
          for (let x = 0; x < rowLen; x++) f32[dst + x] = images[src++];
        }
      }
    }

    for (const L of layers) {
      if (L.kind === 'conv') {
        // A conv and its pool image by image (the pool follows it).
        const pool = layers[layers.indexOf(L) + 1] as PoolLayer, Fb = L.blk.outPad * 4, F = L.blk.outDim;
        const imgBytes = L.hp * L.wp * L.c * 4, argBytes = pool.ph * pool.pw * F * 4;
        for (let b = 0; b < B; b++) {
          k.cnn_conv_fwd(L.xp + b * imgBytes, 1, L.oh, L.ow, L.k, L.c, L.wp * L.c * 4, imgBytes, L.blk.p, L.blk.outPad, L.y);
          k.cnn_pool_fwd(L.y, 1, pool.ph, pool.pw, F, pool.size, pool.s, Fb, L.ow * Fb, L.oh * L.ow * Fb,
            pool.out + b * pool.outImg, pool.outRow, pool.outImg, pool.arg + b * argBytes);
        }
      } else if (L.kind === 'pool') {
        continue;
      } else {
        const { blk } = L, rowBytes = blk.outPad * 4, slice = sliceRows(blk.inDim + 1, blk.outPad);
        const last = L === layers[layers.length - 1];
        for (let i0 = 0; i0 < blk.inDim; i0 += slice) {
          const d = Math.min(slice, blk.inDim - i0), end = i0 + d === blk.inDim, listStride = (d + 1) * 8;
          k.mlp_row_lists(L.x + i0 * 4, B, d, L.xStride, rowBytes, lists, listStride, counts, end ? 1 : 0);
          k.mlp_gemm(lists, listStride, counts, B, blk.p + i0 * rowBytes, blk.outPad, L.y, rowBytes, end && !last ? EPILOGUE.relu : EPILOGUE.store, 0, 0, i0 > 0 ? 1 : 0);
        }
      }
    }

    // Softmax cross-entropy, mean over the batch: dlogits = (softmax − onehot) / B.
    const out = layers[layers.length - 1] as DenseLayer;
    const C = out.blk.outDim, stride = out.blk.outPad;
    f32 = this.kern.f32();
    const loss = softmaxCrossEntropy(f32, out.y >> 2, out.dy >> 2, stride, C, B, labels, rows);

    const adamStep = (blk: Block) => {
      if (!update) return;
      this.adam.update(blk);
      this.transpose(blk);
    };
    for (let i = layers.length - 1; i >= 0; i--) {
      const L = layers[i];
      if (L.kind === 'dense') {
        const { blk } = L, rowBytes = blk.outPad * 4, inPadBytes = pad4(blk.inDim) * 4;
        // dX = (dZ · Wᵀ) ⊙ [X > 0] before W is updated: X is a ReLU's or a max pool of ReLUs' output,
        // and a pool's zero outputs pass no gradient either.
        k.mlp_row_lists(L.dy, B, blk.outDim, rowBytes, inPadBytes, lists, blk.outPad * 8, counts, 0);
        k.mlp_gemm(lists, blk.outPad * 8, counts, B, blk.t, pad4(blk.inDim), L.dx, L.xStride, EPILOGUE.maskPositive, L.x, L.xStride, 0);
        k.mlp_col_lists(L.x, B, blk.inDim, L.xStride, rowBytes, lists, B * 8, counts, 1);
        k.mlp_gemm(lists, B * 8, counts, blk.inDim + 1, L.dy, blk.outPad, blk.g, rowBytes, EPILOGUE.store, 0, 0, 0);
        adamStep(blk);
      } else if (L.kind === 'pool') {
        const c = L.conv;
        // The conv's weight-gradient lists and bias gradient; its dz only where its input gradient needs it.
        const Fb = c.blk.outPad * 4, pixBytes = c.c * 4, wpBytes = c.wp * pixBytes;
        if (c.dxp) f32Fill(this.kern, c.dy, B * c.oh * c.ow * c.blk.outPad);
        k.cnn_pool_bwd(L.out, L.dout, B, L.ph, L.pw, c.blk.outDim, L.outRow, L.outImg, L.arg, L.s,
          c.dxp ? c.dy : 0, Fb, c.ow * Fb, c.oh * c.ow * Fb, pixBytes, wpBytes, c.hp * wpBytes,
          this.dwLists, B * L.ph * L.pw * 8, this.dwCounts, c.blk.g + c.blk.inDim * Fb);
      } else {
        this.convBackward(L);
        adamStep(L.blk);
      }
    }
    return loss / B;
  }

  /** dW, db and (unless the input is the image) the input gradient of a conv from its dy. */
  private convBackward(L: ConvLayer): void {
    const { k, lists, counts, batch: B } = this;
    const { blk, oh, ow } = L, F = blk.outDim, Fpad = blk.outPad;
    const pixBytes = L.c * 4, wpBytes = L.wp * pixBytes, imgBytes = L.hp * wpBytes, kc = L.k * L.c, kcp = pad4(kc);
    if (L.dxp) {
      // dpatches = dZ · Wᵀ a few images at a time, each patch row added into the padded input's gradient.
      f32Fill(this.kern, L.dxp, B * L.hp * L.wp * L.c);
      const n = this.dxImages(L);
      for (let b0 = 0; b0 < B; b0 += n) {
        const nb = Math.min(n, B - b0), rows = nb * oh * ow;
        k.mlp_row_lists(L.dy + b0 * oh * ow * Fpad * 4, rows, F, Fpad * 4, L.k * kcp * 4, lists, F * 8, counts, 0);
        k.cnn_conv_dx(lists, F * 8, counts, nb, oh, ow, L.k, blk.t, kcp, L.dxp + b0 * imgBytes, wpBytes, imgBytes, pixBytes);
      }
    }
    // dWᵀ[f, ky, ·] over the padded input's rows from the pool's lists (its backward pass also
    // wrote the bias gradient); then into the gradient's [K + 1, Fpad] layout.
    const pool = this.layers[this.layers.indexOf(L) + 1] as PoolLayer, listStride = B * pool.ph * pool.pw * 8;
    for (let ky = 0; ky < L.k; ky++) {
      k.mlp_gemm(this.dwLists, listStride, this.dwCounts, F, L.xp + ky * wpBytes, kcp, this.dwt + ky * kcp * 4, L.k * kcp * 4, EPILOGUE.store, 0, 0, 0);
    }
    const f32 = this.kern.f32(), g = blk.g >> 2, dwt = this.dwt >> 2;
    for (let fi = 0; fi < F; fi++) {
      for (let ky = 0; ky < L.k; ky++) {
        const src = dwt + (fi * L.k + ky) * kcp, dst = g + ky * kc * Fpad + fi;
        for (let u = 0; u < kc; u++) f32[dst + u * Fpad] = f32[src + u];
      }
    }
  }
}

function f32Fill(kern: WasmKernels, ptr: number, floats: number): void {
  kern.f32().fill(0, ptr >> 2, (ptr >> 2) + floats);
}
