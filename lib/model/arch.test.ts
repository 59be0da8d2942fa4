import { describe, expect, it } from 'vitest';
import { ArchError, type Op, checkArch, forwardMacs, lenet5Arch, mlpArch, paramSpecs, resnetArch, tensorShapes } from './arch.ts';

describe('architecture descriptions', () => {
  it('LeNet-300-100 is three dense layers with 266,200 weights', () => {
    const arch = mlpArch([28, 28, 1], 10);
    const kernels = paramSpecs(arch).filter((p) => p.prunable);
    expect(kernels.map((p) => p.shape)).toEqual([[784, 300], [300, 100], [100, 10]]);
    expect(forwardMacs(arch)).toBe(784 * 300 + 300 * 100 + 100 * 10);
  });

  it('LeNet-5 on 28×28 reaches the dense layers with 5·5·16 = 400 features', () => {
    const arch = lenet5Arch([28, 28, 1], 10);
    const shapes = tensorShapes(arch);
    expect(shapes.get('conv1')).toEqual([28, 28, 6]);
    expect(shapes.get('pool1')).toEqual([14, 14, 6]);
    expect(shapes.get('conv2')).toEqual([10, 10, 16]);
    expect(shapes.get('pool2')).toEqual([5, 5, 16]);
    expect(paramSpecs(arch).find((p) => p.name === 'fc1.kernel')!.shape).toEqual([400, 120]);
    expect(forwardMacs(arch)).toBe(28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10);
  });

  it('ResNet-20 on CIFAR has 19 convs + 2 projections, 0.27 M parameters, 41 M MACs', () => {
    const arch = resnetArch([32, 32, 3], 10, { depth: 20 });
    const specs = paramSpecs(arch);
    const convs = specs.filter((p) => p.prunable && p.shape.length === 4);
    expect(convs).toHaveLength(19 + 2);
    const params = specs.filter((p) => !/\.(mean|variance)$/.test(p.name)).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    expect(params).toBeGreaterThan(0.26e6);
    expect(params).toBeLessThan(0.28e6); // He et al. 2016, Table 6: 0.27 M
    expect(forwardMacs(arch) / 1e6).toBeCloseTo(40.6, 0);
    expect(tensorShapes(arch).get('s3b3.out')).toEqual([8, 8, 64]);
  });

  it('a resnet depth that is not 6n + 2 is refused', () => {
    expect(() => resnetArch([32, 32, 3], 10, { depth: 10 })).toThrow(/6n \+ 2/);
  });

  it('an op that reads a tensor nobody writes, or adds mismatched shapes, is named', () => {
    const arch = lenet5Arch([28, 28, 1], 10);
    expect(() => checkArch({ ...arch, ops: [{ ...(arch.ops[0] as Extract<Op, { op: 'conv' }>), input: 'nope' }, ...arch.ops.slice(1)] })).toThrow(/conv 'conv1' reads tensor 'nope'/);
    expect(() => checkArch({ ...arch, ops: [...arch.ops, { op: 'add', inputs: ['conv1', 'pool1'], output: 'x', relu: false }] })).toThrow(ArchError);
  });
});
