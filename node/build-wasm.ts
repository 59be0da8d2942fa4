/**
 * Compiles the WebAssembly kernels (lib/model/wasm/source.ts → lib/model/wasm/kernels.wasm)
 * with wabt, the reference WebAssembly toolkit built to JS: no native toolchain needed.
 */
import { join } from 'node:path';
import wabtFactory from 'wabt';
import { kernelsWat } from '../lib/model/wasm/source.ts';

export const KERNELS_WASM_PATH = join(import.meta.dirname, '..', 'lib', 'model', 'wasm', 'kernels.wasm');

export async function buildKernelsWasm(): Promise<Uint8Array> {
  const wabt = await wabtFactory();
  const mod = wabt.parseWat('kernels.wat', kernelsWat(), { simd: true, bulk_memory: true, sat_float_to_int: true });
  try {
    mod.validate();
    return mod.toBinary({ write_debug_names: true }).buffer;
  } finally {
    mod.destroy();
  }
}
