/** How the `pie` command's flags meet presets and config files (parsed by the real commander program; nothing runs). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCli, configFrom, type RunFlags } from '../../cli/pie.ts';

/** The flags commander gives the action of `pie <command> ...args`. */
async function flagsOf(command: string, args: string[]): Promise<RunFlags> {
  const cli = buildCli().exitOverride();
  const cmd = cli.commands.find((c) => c.name() === command)!;
  cmd.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  let flags: RunFlags | undefined;
  cmd.action((f: RunFlags) => { flags = f; });
  await cli.parseAsync(['node', 'pie', command, ...args]);
  return flags!;
}

const dir = mkdtempSync(join(tmpdir(), 'pie-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const configFile = (name: string, body: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(body));
  return path;
};

describe('pie flags: preset ← config file ← flag', () => {
  it.each(['run', 'train', 'evaluate', 'aggregate'])('%s: runsDir from the config file is used, and --runs-dir wins over it', async (command) => {
    const file = configFile('runs-dir.json', { runsDir: '/srv/pie-runs' });
    expect(configFrom(await flagsOf(command, ['--config', file])).runsDir).toBe('/srv/pie-runs');
    expect(configFrom(await flagsOf(command, ['--config', file, '--runs-dir', 'here'])).runsDir).toBe('here');
    expect(configFrom(await flagsOf(command, [])).runsDir).toBe('runs');
  });

  it('no run flag carries a commander default that would hide a config file setting', async () => {
    const flags = await flagsOf('run', []) as unknown as Record<string, unknown>;
    // What is left is not a run setting: preset picks the base, port/host/concurrency are the server's and the upload's.
    expect(Object.keys(flags).filter((k) => flags[k] !== undefined).sort()).toEqual(['concurrency', 'host', 'port', 'preset']);
  });

  it('--train-limit on the tiny preset narrows its generated data instead of switching to Fashion-MNIST', async () => {
    const cfg = configFrom(await flagsOf('run', ['--preset', 'tiny', '--train-limit', '100']));
    expect(cfg.dataset).toMatchObject({ kind: 'synthetic', name: 'synthetic', train: 100 });
  });

  it('--test-limit keeps a config file\'s IDX dataset: its name, folder and class names', async () => {
    const classNames = Array.from({ length: 10 }, (_, i) => `digit ${i}`);
    const file = configFile('mnist.json', { dataset: { kind: 'idx', name: 'mnist', dir: '/data/mnist', classNames } });
    const cfg = configFrom(await flagsOf('run', ['--config', file, '--test-limit', '500']));
    expect(cfg.dataset).toEqual({ kind: 'idx', name: 'mnist', dir: '/data/mnist', classNames, testLimit: 500 });
  });

  it('--dataset accepts only the dataset kinds, and names them', async () => {
    await expect(flagsOf('run', ['--dataset', 'cifar-11'])).rejects.toThrow(/Allowed choices are fashion-mnist, idx, synthetic/);
    expect(configFrom(await flagsOf('run', ['--dataset', 'synthetic'])).dataset.kind).toBe('synthetic');
  });
});
