/**
 * Reference figures the benchmark scripts print their kernels' figures against, measured in the
 * benchmark's own process: this host's speed changes by up to 2× within minutes, so a figure
 * measured at another time compares badly.
 * - mulAddPeak: the engine's ceiling for float32 work without fused multiply-add (which wasm
 *   SIMD lacks): a loop of vector multiplies and adds on registers only, twelve independent sums.
 * - memoryReadMs: every byte of the kernels' linear memory read once, in order, by a SIMD loop.
 * - mulAddThreads: the machine's own speed-up from one thread to several on that loop, which
 *   shares nothing between threads: what more threads can give at best.
 * - inCacheUsPerModel: a model's cost on one image with its weights in cache (the same model
 *   repeated): the floor a live prediction would reach if no weight came from memory.
 */
import { classBytesFor, newClassArray } from '../lib/class-array.ts';
import { predictEach, type Predictor } from '../lib/model/index.ts';
import type { WasmKernels } from '../lib/model/wasm/runtime.ts';

/** Median of a list (the mean of the middle two for an even count). */
export const median = (a: readonly number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/*
 * The two loops are written here rather than taken from a library: what they measure is this
 * engine's own SIMD code on this machine.
 * - read: imports the kernels' memory; eight 16-byte loads per step into four sums, so that the
 *   adds never wait on each other.
 * - peak: twelve independent chains a ← a·x + w, n steps: a multiply and an add per vector, no
 *   loads. (The kernels' a ← a + x·w would not do here: with x and w in registers, the engine
 *   computes x·w once for all twelve, and the loop measures adds alone. Twelve chains measured
 *   the same rate as fourteen, eight less: the ports, not the chains' latency, are the limit.)
 */
const SUMS = 12;
const v = (i: number) => `$a${i}`;
const WAT = `(module (import "env" "memory" (memory 1))
  (func (export "read") (param $p i32) (param $end i32) (result f32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      ${Array.from({ length: 8 }, (_, u) => `(local.set ${v(u % 4)} (f32x4.add (local.get ${v(u % 4)}) (v128.load offset=${16 * u} (local.get $p))))`).join('\n      ')}
      (local.set $p (i32.add (local.get $p) (i32.const 128)))
      (br $next)))
    (f32x4.extract_lane 0 (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3)))))
  (func (export "peak") (param $n i32) (param $x f32) (result f32)
    ${Array.from({ length: SUMS }, (_, i) => `(local ${v(i)} v128)`).join(' ')} (local $xv v128) (local $w v128)
    (local.set $xv (f32x4.splat (local.get $x))) (local.set $w (f32x4.splat (f32.const 0.5))) ;; a → w / (1 − x): no overflow, no subnormals
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      ${Array.from({ length: SUMS }, (_, i) => `(local.set ${v(i)} (f32x4.add (f32x4.mul (local.get ${v(i)}) (local.get $xv)) (local.get $w)))`).join('\n      ')}
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (f32x4.extract_lane 0 ${Array.from({ length: SUMS - 1 }, () => '(f32x4.add').join(' ')} (local.get $a0) ${Array.from({ length: SUMS - 1 }, (_, i) => `(local.get ${v(i + 1)}))`).join(' ')})))`;

interface Loops { read(p: number, end: number): number; peak(n: number, x: number): number }

let compiled: Promise<Uint8Array> | null = null;
/** The loops' module, compiled from WAT once per process. */
function binary(): Promise<Uint8Array> {
  compiled ??= (async () => {
    const { default: wabtFactory } = await import('wabt'); // only when a loop is asked for: the other benchmarks import median alone
    const wabt = await wabtFactory();
    const mod = wabt.parseWat('references.wat', WAT, { simd: true });
    try {
      return mod.toBinary({}).buffer;
    } finally {
      mod.destroy();
    }
  })();
  return compiled;
}

// lib/'s compile target declares no WebAssembly global (lib/model/wasm/runtime.ts types what it uses).
const WA = (globalThis as unknown as { WebAssembly: { instantiate(b: Uint8Array, imports: object): Promise<{ instance: { exports: object } }> } }).WebAssembly;

/** The two loops, instantiated over the kernels' memory. */
async function loops(kernels: WasmKernels): Promise<Loops> {
  const { instance } = await WA.instantiate(await binary(), { env: { memory: kernels.k.memory } });
  return instance.exports as Loops;
}

/*
 * A thread that runs the peak loop for n steps on each message and answers when done. Plain JS
 * evaluated as the thread's script, so that it needs no TypeScript loader.
 */
const PEAK_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { peak } = new WebAssembly.Instance(new WebAssembly.Module(workerData), { env: { memory: new WebAssembly.Memory({ initial: 1 }) } }).exports;
parentPort.on('message', (n) => { peak(n, 0.5); parentPort.postMessage(n); });`;

/**
 * The machine's own speed-up from 1 to `threads` threads on work that shares nothing (the peak
 * loop, in as many threads): `speedUp()` times one thread's fixed amount of work, then every
 * thread doing the same amount at once, by the clock, and returns threads × the ratio.
 */
export async function mulAddThreads(threads: number): Promise<{ speedUp(): Promise<number>; close(): Promise<void> }> {
  const { Worker } = await import('node:worker_threads');
  const bytes = await binary();
  const pool = Array.from({ length: threads }, () => new Worker(PEAK_THREAD, { eval: true, workerData: bytes }));
  const run = (w: InstanceType<typeof Worker>, n: number) => new Promise<void>((resolve, reject) => {
    w.once('message', () => resolve());
    w.once('error', reject);
    w.postMessage(n);
  });
  const timed = async (ws: InstanceType<typeof Worker>[], n: number) => {
    const t0 = performance.now();
    await Promise.all(ws.map((w) => run(w, n)));
    return performance.now() - t0;
  };
  // About 150 ms of one thread's work (each step is 48 multiply-adds), after a warm-up of every thread.
  await timed(pool, 1_000_000);
  const n = Math.max(100_000, Math.round((150 / await timed(pool.slice(0, 1), 1_000_000)) * 1_000_000));
  return {
    async speedUp() {
      const one = await timed(pool.slice(0, 1), n);
      return (threads * one) / await timed(pool, n);
    },
    async close() { await Promise.all(pool.map((w) => w.terminate())); },
  };
}

/** The engine's float32 multiply-add ceiling without FMA, in GMAC/s: CPU time of this process over ≥ ms (after a warm-up call). */
export async function mulAddPeak(kernels: WasmKernels): Promise<(ms: number) => number> {
  const { peak } = await loops(kernels);
  const STEPS = 100_000; // 4.8 M multiply-adds a call
  return (ms) => {
    peak(STEPS, 0.5);
    let calls = 0, used = 0;
    const c0 = process.cpuUsage();
    while (used < ms * 1000) {
      peak(STEPS, 0.5);
      calls++;
      const c = process.cpuUsage(c0);
      used = c.user + c.system;
    }
    return (calls * STEPS * SUMS * 4) / used / 1000;
  };
}

/** Milliseconds to read the kernels' whole linear memory once (median of `rounds` after one unmeasured), and the bytes read. */
export async function memoryReadMs(kernels: WasmKernels, rounds = 5): Promise<{ ms: number; bytes: number }> {
  const { read } = await loops(kernels);
  const bytes = kernels.memoryBytes & ~127; // whole 128-byte steps, never past the end
  const times: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    const t0 = performance.now();
    read(0, bytes);
    if (r > 0) times.push(performance.now() - t0);
  }
  return { ms: median(times), bytes };
}

/**
 * µs per model of each level with its weights in cache: the level's first member on each image,
 * once unmeasured (its weights into cache), then `repeats` times timed; the median over the images.
 */
export function inCacheUsPerModel(byLevel: readonly Predictor[][], inputs: readonly Float32Array[], numClasses: number, repeats = 8): number[] {
  const out = newClassArray(repeats, classBytesFor(numClasses));
  return byLevel.map((ps) => {
    const same = Array.from({ length: repeats }, () => ps[0]);
    return median(inputs.map((x) => {
      predictEach([ps[0]], x, out);
      const t0 = performance.now();
      predictEach(same, x, out);
      return ((performance.now() - t0) * 1000) / repeats;
    }));
  });
}
