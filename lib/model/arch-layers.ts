import { type Architecture, type Op, tensorShapes } from './arch.ts';

/** The weighted ops (conv, dense) in op order: model.layers[l] belongs to weightedOps(arch)[l]. */
export function weightedOps(arch: Architecture): Extract<Op, { op: 'conv' | 'dense' }>[] {
  return arch.ops.filter((op): op is Extract<Op, { op: 'conv' | 'dense' }> => op.op === 'conv' || op.op === 'dense');
}

/** [in, out] of each weighted op's matrix: conv [k·k·c, filters], dense [h·w·c, units]. */
export function layerDims(arch: Architecture): [inDim: number, outDim: number][] {
  const shapes = tensorShapes(arch);
  return weightedOps(arch).map((op) => {
    const [h, w, c] = shapes.get(op.input)!;
    return op.op === 'conv' ? [op.kernel * op.kernel * c, op.filters] : [h * w * c, op.units];
  });
}
