/** --arch and the CNN presets: MLP runs keep their ids, the flags replace the architecture whole. */
import { describe, expect, it } from 'vitest';
import { configFrom, type RunFlags } from '../cli/pie.ts';
import { ConfigError, levelsOf, resolveConfig, withArch } from '../trainer/config.ts';
import { defaultRunId } from '../trainer/pipeline.ts';

const flags = (f: Partial<RunFlags>): RunFlags => ({ preset: 'quick', ...f });

describe('architecture settings', () => {
  it('--arch mlp is the MLP path exactly: same config, same run id as before architectures existed', () => {
    const plain = resolveConfig('quick');
    expect('arch' in plain).toBe(false);
    expect(configFrom(flags({ arch: 'mlp' }))).toEqual(configFrom(flags({})));
    // The id main gave the quick run (2 workers) before --arch: its members and numbers stay valid.
    expect(defaultRunId(resolveConfig('quick', undefined, { workers: 2 }))).toBe('fashion-mnist-quick-29a3933e');
    expect(defaultRunId(withArch(resolveConfig('cnn-quick'), 'mlp', {}))).toBe(defaultRunId(resolveConfig('quick', undefined, {
      K: 8, epochs: resolveConfig('cnn-quick').epochs, batchSize: resolveConfig('cnn-quick').batchSize,
      learningRate: resolveConfig('cnn-quick').learningRate, preset: 'cnn-quick',
    })));
  });

  it('--arch resnet with --depth/--width; a lenet5 preset does not leak its widths into it', () => {
    const cfg = configFrom(flags({ preset: 'cnn-quick', arch: 'resnet', depth: 8, width: 4 }));
    expect(cfg.arch).toEqual({ name: 'resnet', depth: 8, width: 4 });
    expect(configFrom(flags({ preset: 'cifar10', depth: 14 })).arch).toEqual({ name: 'resnet', depth: 14, width: 16 });
    expect(configFrom(flags({ arch: 'lenet5', conv: [8, 20] })).arch).toEqual({ name: 'lenet5', conv: [8, 20] });
    expect(defaultRunId(cfg)).not.toBe(defaultRunId(configFrom(flags({ preset: 'cnn-quick', arch: 'resnet', depth: 14, width: 4 }))));
  });

  it('refuses sizes that do not fit the architecture, naming them', () => {
    expect(() => configFrom(flags({ arch: 'resnet', depth: 10 }))).toThrow(/resnet depth must be 6n\+2/);
    expect(() => configFrom(flags({ arch: 'lenet5', depth: 8 }))).toThrow(ConfigError);
    expect(() => configFrom(flags({ arch: 'lenet5', depth: 8 }))).toThrow(/--depth and --width apply to --arch resnet, not lenet5/);
    expect(() => configFrom(flags({ conv: [4, 8] }))).toThrow(/--conv and --dense apply to --arch lenet5, not mlp/);
  });

  it('cnn-quick: lenet5 on Fashion-MNIST, K ≥ 8, dense + 50/90/99 % + three quantized; cifar10: resnet-20, K = 30', () => {
    const q = resolveConfig('cnn-quick');
    expect(q.arch?.name).toBe('lenet5');
    expect(q.dataset.kind).toBe('idx');
    expect(q.K).toBeGreaterThanOrEqual(8);
    expect(levelsOf(q).map((l) => l.name)).toEqual(['dense', 'p50', 'p90', 'p99', 'f16', 'int8-dyn', 'int8-full']);
    const c = resolveConfig('cifar10');
    expect(c.arch).toEqual({ name: 'resnet', depth: 20, width: 16 });
    expect(c.K).toBe(30);
    expect(c.sparsities).toEqual([0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99]);
  });
});
