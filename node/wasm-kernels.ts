/**
 * Node side of the WebAssembly kernels: reads lib/model/wasm/kernels.wasm (built by
 * `npm run build:wasm`, or here on first use when it is missing and the build tool is
 * installed), compiles it and installs it for every predictor of this thread.
 * (Workers import the same file as a module instead: see api/worker.ts.)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileKernels, installKernels, type WasmKernels } from '../lib/model/wasm/runtime.ts';

const WASM_PATH = fileURLToPath(new URL('../lib/model/wasm/kernels.wasm', import.meta.url));

export async function installNodeKernels(): Promise<WasmKernels> {
  if (!existsSync(WASM_PATH)) {
    let build: () => Promise<Uint8Array>;
    try {
      ({ buildKernelsWasm: build } = await import('./build-wasm.ts'));
    } catch (err) {
      throw new Error(`${WASM_PATH} is missing and cannot be built here (run 'npm run build:wasm'): ${(err as Error).message}`);
    }
    writeFileSync(WASM_PATH, await build());
  }
  return installKernels(compileKernels(readFileSync(WASM_PATH)));
}
