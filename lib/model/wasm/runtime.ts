/**
 * The WebAssembly kernels' runtime: one instance of kernels.wasm per process (or Workers
 * isolate) and one linear memory holding every loaded model's weights, managed by a small
 * first-fit allocator so that evicted models give their space back.
 *
 * Loading is the host's job, because the two runtimes differ: Workers forbid compiling wasm
 * from bytes at run time, so the Worker imports `kernels.wasm` as a module (wrangler bundles
 * it) and passes it here; Node reads the file and compiles it. Both call `installKernels`.
 */

/*
 * The few WebAssembly JS API members used here, typed locally: lib/ compiles against ES2022
 * alone, which has no WebAssembly declarations (Node and Workers each bring their own).
 */
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmInstance { readonly exports: object }
/** A compiled WebAssembly.Module (opaque here). */
export type WasmModule = object;
const WA = (globalThis as unknown as {
  WebAssembly: { Instance: new (module: WasmModule, imports: object) => WasmInstance; Module: new (bytes: Uint8Array) => WasmModule };
}).WebAssembly;

interface Exports {
  memory: WasmMemory;
  dense_f32(x: number, n: number, inDim: number, outDim: number, w: number, b: number, y: number, relu: number, nz: number, cnt: number, tmp: number): void;
  dense_f16(x: number, n: number, inDim: number, outDim: number, w: number, b: number, y: number, relu: number, nz: number, cnt: number, tmp: number): void;
  row_f32(x: number, inDim: number, outDim: number, w: number, b: number, y: number, relu: number, nz: number, acc: number): void;
  row_f16(x: number, inDim: number, outDim: number, w: number, b: number, y: number, relu: number, nz: number, acc: number): void;
  sparse_f32(x: number, n: number, inDim: number, outDim: number, rowPtr: number, col: number, val: number, b: number, y: number, relu: number): void;
  int8_layer(mode: number, x: number, n: number, inDim: number, outDim: number, w: number, scales: number, b: number, y: number, relu: number,
    zpIn: number, zpOut: number, lo: number, nz: number, cnt: number, acc: number): void;
  quantize_input(x: number, len: number, scale: number, zp: number, q: number): void;
  argmax_f32(y: number, n: number, d: number, out: number): void;
  argmax_i8(y: number, n: number, d: number, out: number): void;
  // MLP kernels (mlp-source.ts)
  mlp_dense_f32(x: number, n: number, inDim: number, outDim: number, w: number, b: number, y: number, relu: number, nz: number, cnt: number, tmp: number): void;
  mlp_dense_f16(x: number, n: number, inDim: number, outDim: number, w: number, b: number, y: number, relu: number, nz: number, cnt: number, tmp: number): void;
  f16_widen(src: number, count: number, dst: number): void;
  csr_panels(inDim: number, outDim: number, rowPtr: number, col: number, val: number, dst: number): void;
  csr_1(x: number, inDim: number, outDim: number, rowPtr: number, col: number, val: number, b: number, y: number, relu: number, nz: number, acc: number): void;
  csr_t1(xt: number, inDim: number, outDim: number, rowPtr: number, col: number, val: number, b: number, yt: number, relu: number): void;
  csr_t2(xt: number, inDim: number, outDim: number, rowPtr: number, col: number, val: number, b: number, yt: number, relu: number): void;
  csr_t4(xt: number, inDim: number, outDim: number, rowPtr: number, col: number, val: number, b: number, yt: number, relu: number): void;
  lanes_in(x: number, n: number, dim: number, xt: number, L: number): void;
  lanes_out(xt: number, n: number, dim: number, x: number, L: number): void;
  mlp_int8(mode: number, x: number, n: number, inDim: number, outDim: number, w: number, scales: number, b: number, y: number, relu: number,
    zpIn: number, zpOut: number, lo: number, nz: number, cnt: number, acc: number): void;
  quant_in4(x: number, len: number, scale: number, zp: number, q: number): void;
}

const PAGE = 65536;
/** Every allocation is 16-byte aligned and followed by 16 bytes of slack: vector loads of a partial last block may read past an array's end. */
const ALIGN = 16;
const SLACK = 16;

export class WasmKernels {
  readonly k: Exports;
  private readonly memory: WasmMemory;
  /** Free blocks [start, end), sorted by start, never adjacent (coalesced). */
  private free: { start: number; end: number }[] = [];
  private sizes = new Map<number, number>();
  private used = 0;
  private cache: { buffer: ArrayBuffer | null; u8: Uint8Array; f32: Float32Array } = { buffer: null, u8: new Uint8Array(0), f32: new Float32Array(0) };

  constructor(instance: WasmInstance) {
    this.k = instance.exports as unknown as Exports;
    this.memory = this.k.memory;
    // Address 0 is kept out of use so that 0 never names an allocation.
    this.free.push({ start: ALIGN, end: this.memory.buffer.byteLength });
  }

  /** Bytes of linear memory allocated (weights and scratch). */
  get bytesInUse(): number { return this.used; }
  /** Bytes the linear memory occupies (it grows, never shrinks). */
  get memoryBytes(): number { return this.memory.buffer.byteLength; }

  alloc(bytes: number): number {
    const size = Math.ceil((bytes + SLACK) / ALIGN) * ALIGN;
    let k = this.free.findIndex((b) => b.end - b.start >= size);
    if (k < 0) {
      const last = this.free[this.free.length - 1];
      const top = this.memory.buffer.byteLength;
      const tail = last && last.end === top ? last.end - last.start : 0;
      const pages = Math.ceil((size - tail) / PAGE);
      this.memory.grow(pages);
      const end = this.memory.buffer.byteLength;
      if (tail) last.end = end;
      else this.free.push({ start: top, end });
      k = this.free.length - 1;
    }
    const block = this.free[k];
    const ptr = block.start;
    block.start += size;
    if (block.start === block.end) this.free.splice(k, 1);
    this.sizes.set(ptr, size);
    this.used += size;
    return ptr;
  }

  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`wasm heap: ${ptr} is not an allocation`);
    this.sizes.delete(ptr);
    this.used -= size;
    const end = ptr + size;
    let k = 0;
    while (k < this.free.length && this.free[k].start < ptr) k++;
    const prev = this.free[k - 1], next = this.free[k];
    if (prev && prev.end === ptr && next && next.start === end) {
      prev.end = next.end;
      this.free.splice(k, 1);
    } else if (prev && prev.end === ptr) prev.end = end;
    else if (next && next.start === end) next.start = ptr;
    else this.free.splice(k, 0, { start: ptr, end });
  }

  /** Size of an allocation, with alignment and slack. */
  sizeOf(ptr: number): number {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`wasm heap: ${ptr} is not an allocation`);
    return size;
  }

  private scratchPtr = 0;
  private scratchBytes = 0;

  /** Shared scratch of at least `bytes` (kernels run synchronously, one at a time). */
  scratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      if (this.scratchPtr) this.release(this.scratchPtr);
      this.scratchBytes = Math.max(bytes, 2 * this.scratchBytes);
      this.scratchPtr = this.alloc(this.scratchBytes);
    }
    return this.scratchPtr;
  }

  /** Copies a typed array into a new allocation; returns its address. */
  put(data: ArrayBufferView): number {
    const ptr = this.alloc(data.byteLength);
    this.u8().set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), ptr);
    return ptr;
  }

  /** Views of the current memory (growing the memory replaces its buffer, so views are refreshed). */
  u8(): Uint8Array { return this.views().u8; }
  f32(): Float32Array { return this.views().f32; }

  private views() {
    const buffer = this.memory.buffer;
    if (this.cache.buffer !== buffer) this.cache = { buffer, u8: new Uint8Array(buffer), f32: new Float32Array(buffer) };
    return this.cache;
  }
}

let installed: WasmKernels | null = null;

/**
 * Makes the WebAssembly kernels available to every predictor created afterwards (the module is
 * instantiated once; calling again with the same module is a no-op). Returns the runtime.
 */
export function installKernels(module: WasmModule): WasmKernels {
  if (!installed) installed = new WasmKernels(new WA.Instance(module, {}));
  return installed;
}

/** Compiles kernels.wasm from its bytes: allowed on Node, not on Workers (import the module there). */
export function compileKernels(bytes: Uint8Array): WasmModule {
  return new WA.Module(bytes);
}

/** The installed kernels, or null when the host has not installed them (the JS kernels run then). */
export function wasmKernels(): WasmKernels | null {
  return installed;
}
