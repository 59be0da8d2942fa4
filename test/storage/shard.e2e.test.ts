/**
 * Sharded training as the Kubernetes schedule runs it: three `pie train --shard i/3` processes
 * side by side, each writing its members straight to an S3-compatible bucket and ending with
 * `pie aggregate --if-complete`, so that whichever finishes the set aggregates. The result must
 * be the unsharded run of the same config, byte for byte: same models, same predictions.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseManifest } from '../../lib/manifest.ts';
import { getText, latestRunId } from '../../lib/store.ts';
import { startLocalS3, type LocalS3 } from '../../trainer/dev/local-s3.ts';
import { S3Store } from '../../node/store-s3.ts';

const root = join(import.meta.dirname, '../..');
const pieJs = join(root, 'bin/pie.js');
const env = { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
Object.assign(process.env, env);
const pie = (args: string[]) => spawnSync(process.execPath, [pieJs, ...args], { cwd: root, env, encoding: 'utf8', timeout: 300_000 });

/** Runs a command in the background; resolves with its exit code and output. */
function pieAsync(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [pieJs, ...args], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('exit', (status) => resolve({ status, stderr }));
  });
}

// The config of the unsharded run the global setup made (`pie run --preset tiny`).
const config = ['--preset', 'tiny', '--quiet'];
const unsharded = inject('tinyRunDir');
let s3: LocalS3;
let bucket: S3Store;
let store: string[];

beforeAll(async () => {
  s3 = await startLocalS3({ bucket: 'pie-shards' });
  bucket = new S3Store({ bucket: s3.bucket, prefix: 'runs', endpoint: s3.endpoint });
  store = ['--store', `s3://${s3.bucket}/runs`, '--endpoint', s3.endpoint];
});
afterAll(() => s3?.stop());

describe('pie train --shard i/n + pie aggregate', () => {
  it('aggregate refuses a run whose members are not all there, and names them', () => {
    const r = pie(['aggregate', ...config, ...store]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/12 of 12 members of run synthetic-tiny-\w+ are not finished or not valid: dense\/0, dense\/1/);
    const quiet = pie(['aggregate', ...config, ...store, '--if-complete']);
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).toMatch(/not aggregating yet/);
  });

  it('3 shards in parallel, each ending with aggregate --if-complete, give the unsharded run byte for byte', async () => {
    const shards = await Promise.all([0, 1, 2].map(async (i) => {
      const train = await pieAsync(['train', ...config, ...store, '--shard', `${i}/3`, '--workers', '1']);
      const agg = train.status === 0 ? await pieAsync(['aggregate', ...config, ...store, '--if-complete', '--workers', '1']) : null;
      return { train, agg };
    }));
    for (const [i, s] of shards.entries()) {
      expect(s.train.status, s.train.stderr).toBe(0);
      expect(s.train.stderr).toMatch(new RegExp(`shard ${i}/3: 4 of 12 trained members`));
      expect(s.agg?.status, s.agg?.stderr).toBe(0);
    }
    // At least one shard saw the whole set and aggregated.
    expect(shards.some((s) => /run written to s3:\/\//.test(s.agg!.stderr))).toBe(true);

    const runId = readFileSync(join(unsharded, 'latest'), 'utf8').trim();
    expect(await latestRunId(bucket)).toBe(runId);
    const sharded = parseManifest((await getText(bucket, `${runId}/manifest.json`))!);
    const reference = parseManifest(readFileSync(join(unsharded, runId, 'manifest.json'), 'utf8'));
    const hashes = (m: typeof sharded) => Object.fromEntries(m.files.filter((f) => f.kind !== 'member-record').map((f) => [f.path, f.sha256]));
    // Every model file and the predictions of every model on every test image are identical.
    expect(hashes(sharded)).toEqual(hashes(reference));
    const predictions = await bucket.get(`${runId}/predictions.bin`);
    expect(Buffer.from(predictions!).equals(readFileSync(join(unsharded, runId, 'predictions.bin')))).toBe(true);
    expect(sharded.metrics.levels).toEqual(reference.metrics.levels);
  }, 300_000);

  it('a retried shard finds its members done and trains nothing', () => {
    const r = pie(['train', ...config, ...store, '--shard', '1/3', '--workers', '1']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/4 member\(s\) already finished, skipped/);
    expect(r.stderr).not.toMatch(/^train: done/m);
    const again = pie(['aggregate', ...config, ...store, '--if-complete']);
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/already aggregated/);
  });
});
