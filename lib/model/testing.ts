/* Seeded synthetic nets and data for the lib/model tests. */
import { mulberry32, permutation } from '../random.ts';
import { type Architecture, paramSpecs } from './arch.ts';
import type { ArchWeights } from './arch-weights.ts';
import type { MlpWeights } from './types.ts';

export function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** He-initialised ReLU MLP with small random biases. */
export function randomMlp(dims: number[], seed: number): MlpWeights {
  const rand = mulberry32(seed);
  return {
    dims: [...dims],
    layers: dims.slice(1).map((outDim, l) => {
      const inDim = dims[l];
      const sd = Math.sqrt(2 / inDim);
      return {
        inDim,
        outDim,
        weights: Float32Array.from({ length: inDim * outDim }, () => gaussian(rand) * sd),
        bias: Float32Array.from({ length: outDim }, () => 0.05 * gaussian(rand)),
      };
    }),
  };
}

/** Zeroes exactly round(n · sparsity) randomly chosen weights of each layer. */
export function pruneRandomly(w: MlpWeights, sparsity: number, seed: number): MlpWeights {
  const rand = mulberry32(seed);
  return {
    dims: [...w.dims],
    layers: w.layers.map((layer) => {
      const weights = layer.weights.slice();
      const order = permutation(weights.length, rand);
      const drop = Math.round(weights.length * sparsity);
      for (let k = 0; k < drop; k++) weights[order[k]] = 0;
      return { ...layer, weights, bias: layer.bias.slice() };
    }),
  };
}

/** n images in [0, 1] of length dim, about half the pixels exactly 0. */
export function randomImages(n: number, dim: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n * dim }, () => (rand() < 0.5 ? 0 : Math.round(rand() * 255) / 255));
}

export interface PlantedTask {
  net: MlpWeights;
  /** [n × dims[0]] in [0, 1] */
  images: Float32Array;
  /** planted class of each image */
  labels: Uint8Array;
  n: number;
}

/**
 * A "trained-like" 64-32-16-10 net with a planted structure: 10 sparse class prototypes; hidden
 * units 0–9 match one prototype each and are carried through to the logits, the other units
 * are random and leak small random amounts into the logits. Images are prototypes with heavy
 * noise (sd 0.5), so the float net is right on ~90 % of them with many small margins, and a
 * quantized net only agrees with it if its arithmetic is right.
 */
export function plantedTask(n: number, seed: number): PlantedTask {
  const rand = mulberry32(seed);
  const dims = [64, 32, 16, 10];
  const C = 10;
  const D = dims[0];
  const prototypes = Array.from({ length: C }, () => Float32Array.from({ length: D }, () => (rand() < 0.5 ? 0 : 0.3 + 0.7 * rand())));
  const mean = new Float64Array(D);
  for (const p of prototypes) for (let i = 0; i < D; i++) mean[i] += p[i] / C;

  const layer = (inDim: number, outDim: number, fill: (i: number, o: number) => number, bias = 0.02) => ({
    inDim,
    outDim,
    weights: Float32Array.from({ length: inDim * outDim }, (_, k) => fill(Math.floor(k / outDim), k % outDim)),
    bias: Float32Array.from({ length: outDim }, () => bias * gaussian(rand)),
  });
  const l0 = layer(D, dims[1], (i, o) => (o < C ? 0.5 * (prototypes[o][i] - mean[i]) : gaussian(rand) * Math.sqrt(2 / D)));
  const l1 = layer(dims[1], dims[2], (i, o) => (o < C ? (i === o ? 1 : 0.03 * gaussian(rand)) : gaussian(rand) * Math.sqrt(2 / dims[1])));
  const l2 = layer(dims[2], dims[3], (i, o) => (i === o ? 1 : 0.05 * gaussian(rand)));

  const images = new Float32Array(n * D);
  const labels = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const c = Math.floor(rand() * C);
    labels[k] = c;
    for (let i = 0; i < D; i++) {
      const v = prototypes[c][i] + 0.5 * gaussian(rand);
      images[k * D + i] = v <= 0 ? 0 : v >= 1 ? 1 : Math.round(v * 255) / 255;
    }
  }
  return { net: { dims, layers: [l0, l1, l2] }, images, labels, n };
}

/**
 * He-initialised float weights for any architecture, with BatchNorm statistics that are not
 * the identity (so folding has something to do), optionally pruned to `sparsity` per kernel.
 */
export function randomArchWeights(arch: Architecture, seed: number, sparsity = 0): ArchWeights {
  const rand = mulberry32(seed);
  const params: Record<string, Float32Array> = {};
  for (const { name, shape } of paramSpecs(arch)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = n / shape[shape.length - 1];
    const kind = name.slice(name.lastIndexOf('.') + 1);
    params[name] = Float32Array.from({ length: n }, () => {
      switch (kind) {
        case 'kernel': return gaussian(rand) * Math.sqrt(2 / fanIn);
        case 'gamma': return 0.5 + rand();
        case 'variance': return 0.2 + rand();
        default: return 0.1 * gaussian(rand); // bias, beta, mean
      }
    });
    if (kind === 'kernel' && sparsity > 0) {
      const order = permutation(n, rand);
      const drop = Math.round(n * sparsity);
      for (let k = 0; k < drop; k++) params[name][order[k]] = 0;
    }
  }
  return { arch, params };
}
