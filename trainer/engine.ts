import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

export type EngineName = 'tensorflow' | 'wasm' | 'cpu';
export interface Engine {
  /** tfjs backend in use: 'tensorflow' (tfjs-node / tfjs-node-gpu), 'wasm' or 'cpu'. */
  backend: EngineName;
  /** The package that provided it, e.g. '@tensorflow/tfjs-node-gpu'. */
  provider: string;
  tfjsVersion: string;
}

const require = createRequire(import.meta.url);

/**
 * Picks the fastest TensorFlow.js backend present: tfjs-node-gpu, tfjs-node (optional
 * dependencies: present on users' machines, absent where their native install cannot run),
 * then wasm, then the pure-JS cpu backend (about 300 examples/s: a last resort).
 * `prefer` forces one ('auto' = the order above).
 */
export async function initEngine(prefer: 'auto' | EngineName = 'auto'): Promise<Engine> {
  const tried: string[] = [];
  if (prefer === 'auto' || prefer === 'tensorflow') {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        require(pkg);
        if (await tf.setBackend('tensorflow')) return done('tensorflow', pkg);
      } catch (err) {
        tried.push(`${pkg}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    if (prefer === 'tensorflow') throw new Error(`engine 'tensorflow' requested but unavailable (${tried.join('; ')})`);
  }
  if (prefer === 'auto' || prefer === 'wasm') {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      if (await tf.setBackend('wasm')) return done('wasm', '@tensorflow/tfjs-backend-wasm');
    } catch (err) {
      tried.push(`wasm: ${(err as Error).message}`);
      if (prefer === 'wasm') throw new Error(`engine 'wasm' requested but unavailable: ${(err as Error).message}`);
    }
  }
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  return done('cpu', '@tensorflow/tfjs-backend-cpu');

  async function done(backend: EngineName, provider: string): Promise<Engine> {
    await tf.ready();
    return { backend, provider, tfjsVersion: tf.version_core };
  }
}
