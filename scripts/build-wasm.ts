/**
 * Builds lib/model/wasm/kernels.wasm from its source (see node/build-wasm.ts).
 *   npm run build:wasm
 */
import { writeFileSync } from 'node:fs';
import { buildKernelsWasm, KERNELS_WASM_PATH } from '../node/build-wasm.ts';

const bytes = await buildKernelsWasm();
writeFileSync(KERNELS_WASM_PATH, bytes);
console.log(`build:wasm: ${bytes.length} bytes → lib/model/wasm/kernels.wasm`);
