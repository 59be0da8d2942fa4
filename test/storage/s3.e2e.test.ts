/**
 * Publishing to a real S3-compatible server (s3rver, started here on loopback) through the CLI:
 * a run goes up whole and reads back through S3Store and the Node API; a publish killed midway
 * leaves the previous run served, and running it again completes it, skipping what is already
 * there; pruning the bucket never deletes the run `latest` names.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startNodeServer } from '../../api/node.ts';
import { parseManifest } from '../../lib/manifest.ts';
import { getText, latestRunId } from '../../lib/store.ts';
import { startLocalS3, type LocalS3 } from '../../trainer/dev/local-s3.ts';
import { S3Store } from '../../node/store-s3.ts';

const root = join(import.meta.dirname, '../..');
const pieJs = join(root, 'bin/pie.js');
// s3rver's one account; the trainer reads the pair from the environment as it would real keys.
const env = { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
Object.assign(process.env, env);
const pie = (args: string[]) => spawnSync(process.execPath, [pieJs, ...args], { cwd: root, env, encoding: 'utf8', timeout: 300_000 });

const PREFIX = 'pie-lens/runs';
let s3: LocalS3;
let bucket: S3Store;
const runsA = inject('tinyRunDir');
let runsB: string;
let runA: string;
let runB: string;

beforeAll(async () => {
  s3 = await startLocalS3({ bucket: 'pie-test' });
  bucket = new S3Store({ bucket: s3.bucket, prefix: PREFIX, endpoint: s3.endpoint });
  runA = readFileSync(join(runsA, 'latest'), 'utf8').trim();
  // A second run of the same size with other seeds: the one whose publish gets interrupted.
  runsB = mkdtempSync(join(tmpdir(), 'pie-run-b-'));
  const r = pie(['run', '--preset', 'tiny', '--seed', '2', '--runs-dir', runsB, '--quiet']);
  if (r.status !== 0) throw new Error(`building run B failed:\n${r.stderr}`);
  runB = readFileSync(join(runsB, 'latest'), 'utf8').trim();
  expect(runB).not.toBe(runA);
});
afterAll(() => s3?.stop());

const publishArgs = (runsDir: string, endpoint = s3.endpoint) =>
  ['publish', '--runs-dir', runsDir, '--bucket', s3.bucket, '--prefix', PREFIX, '--endpoint', endpoint, '--quiet'];

async function apiLatest(): Promise<{ latest: unknown; runId: unknown; runs: unknown }> {
  // A fresh server each time: what a reader that starts now sees in the bucket.
  const server = await startNodeServer({ store: new S3Store({ bucket: s3.bucket, prefix: PREFIX, endpoint: s3.endpoint }), port: 0, env: { PIE_PUBLIC_READS: 'true' } });
  try {
    const overview = await (await fetch(`${server.url}/v1/runs/latest`)).json() as { runId: unknown };
    const list = await (await fetch(`${server.url}/v1/runs`)).json() as { latest: unknown; runs: unknown };
    return { latest: list.latest, runs: list.runs, runId: overview.runId };
  } finally {
    await server.close();
  }
}

describe('pie publish to an S3-compatible bucket', () => {
  it('uploads every file, then the manifest, then latest; the bucket reads back byte for byte', async () => {
    const r = pie(publishArgs(runsA));
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const manifest = parseManifest((await getText(bucket, `${runA}/manifest.json`))!);
    expect(r.stdout).toMatch(new RegExp(`published ${runA}: ${manifest.files.length + 1} uploaded .*, 0 already present`));
    expect(await latestRunId(bucket)).toBe(runA);
    for (const f of manifest.files) {
      const bytes = await bucket.get(`${runA}/${f.path}`);
      expect(bytes?.length, f.path).toBe(f.bytes);
      expect(createHash('sha256').update(bytes!).digest('hex'), f.path).toBe(f.sha256);
    }
    // The SHA-256 travels as object metadata, so a re-run can skip without downloading.
    expect((await bucket.head(`${runA}/${manifest.files[0].path}`))?.sha256).toBe(manifest.files[0].sha256);
    expect(await bucket.get(`${runA}/no-such-file`)).toBeNull();
  });

  it('the Node API serves the run straight from the bucket', async () => {
    expect(await apiLatest()).toEqual({ latest: runA, runs: [runA], runId: runA });
  });

  it('publishing the same run again uploads nothing; the bucket can come from the AWS-style environment', () => {
    const r = spawnSync(process.execPath, [pieJs, 'publish', '--runs-dir', runsA], {
      cwd: root, encoding: 'utf8', env: { ...env, AWS_ENDPOINT_URL_S3: s3.endpoint, PIE_S3_BUCKET: s3.bucket, PIE_S3_PREFIX: PREFIX },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/: 0 uploaded \(0 B\), \d+ already present/);
    expect(r.stderr).not.toMatch(/S3RVER/); // credentials never appear in the output
  });

  it('pie serve --store s3://… serves the bucket', async () => {
    const child = spawn(process.execPath, [pieJs, 'serve', '--store', `s3://${s3.bucket}/${PREFIX}`, '--endpoint', s3.endpoint, '--port', '0'],
      { cwd: root, env: { ...env, PIE_PUBLIC_READS: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /serving s3:\/\/\S+ at (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.once('exit', (code) => reject(new Error(`pie serve exited with ${code}`)));
      });
      const overview = await (await fetch(`${url}/v1/runs/latest`)).json() as { runId: string };
      expect(overview.runId).toBe(runA);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('pie run --publish publishes the run it finishes', () => {
    // A copy: finishing the run again rewrites its manifest, and other tests read the original.
    const dir = mkdtempSync(join(tmpdir(), 'pie-run-publish-'));
    cpSync(runsA, dir, { recursive: true });
    const r = pie(['run', '--preset', 'tiny', '--runs-dir', dir, '--quiet', '--publish', '--bucket', s3.bucket, '--prefix', 'elsewhere', '--endpoint', s3.endpoint]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/12 member\(s\) already finished, skipped/);
    expect(r.stderr).toMatch(new RegExp(`publish: latest → ${runA}`));
    return expect(latestRunId(new S3Store({ bucket: s3.bucket, prefix: 'elsewhere', endpoint: s3.endpoint }))).resolves.toBe(runA);
  }, 120_000); // a whole pie run (evaluation and publishing), spawned

  it('a publish killed midway leaves the previous run served; a re-run completes it and skips what is there', async () => {
    const total = parseManifest(readFileSync(join(runsB, runB, 'manifest.json'), 'utf8')).files.length + 1;
    // Between the publisher and the server: lets 10 of run B's uploads through, then holds every
    // later one unanswered, so the kill lands at a known point, mid-publish.
    const gate = await startGate(new URL(s3.endpoint), (req) => req.method === 'PUT' && req.url!.includes(`/${runB}/`), 10);
    const child = spawn(process.execPath, [pieJs, ...publishArgs(runsB, gate.url)], { cwd: root, env, stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const first = await Promise.race([gate.holding.then(() => 'held' as const), exited.then((code) => `exited with ${code}` as const)]);
      expect(first, 'the publisher stopped before the gate held it').toBe('held');
      child.kill('SIGKILL');
      await exited;
    } finally {
      await gate.close();
    }
    const present = (await bucket.list(`${runB}/`)).length;
    expect(present).toBeGreaterThanOrEqual(10);
    expect(present).toBeLessThan(total);
    expect(await bucket.head(`${runB}/manifest.json`)).toBeNull();
    expect(await latestRunId(bucket)).toBe(runA);
    expect(await apiLatest()).toEqual({ latest: runA, runs: [runA], runId: runA });

    const r = pie(publishArgs(runsB));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`published ${runB}: ${total - present} uploaded .*, ${present} already present`));
    expect(await latestRunId(bucket)).toBe(runB);
    expect(await apiLatest()).toEqual({ latest: runB, runs: [runA, runB].sort(), runId: runB });
  }, 120_000);

  it('pie runs list / prune on the bucket: older runs go, latest stays whatever --keep says', async () => {
    const store = ['--store', `s3://${s3.bucket}/${PREFIX}`, '--endpoint', s3.endpoint];
    const list = pie(['runs', 'list', ...store]);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^\\* ${runB} `, 'm'));
    expect(list.stdout).toMatch(new RegExp(`^  ${runA} `, 'm'));

    const before = (await bucket.list('')).length;
    const dry = pie(['runs', 'prune', '--keep', '0', '--dry-run', ...store]);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`would delete ${runA} `));
    expect(dry.stdout).not.toMatch(new RegExp(`delete ${runB}`));
    expect((await bucket.list('')).length).toBe(before);

    // runB is newer than runA here, so --keep 0 is what shows that latest is never deleted.
    const prune = pie(['runs', 'prune', '--keep', '0', ...store]);
    expect(prune.status).toBe(0);
    expect(prune.stdout).toMatch(/deleted 1 run\(s\), kept 1/);
    expect(await bucket.list(`${runA}/`)).toEqual([]);
    expect((await bucket.list(`${runB}/`)).length).toBeGreaterThan(0);
    expect(await apiLatest()).toEqual({ latest: runB, runs: [runB], runId: runB });
  });
});

interface Gate { url: string; holding: Promise<void>; close(): Promise<void> }

/** An HTTP relay to `target` that forwards everything until `allow` matching requests have completed, then holds further matching ones. */
async function startGate(target: URL, matches: (req: IncomingMessage) => boolean, allow: number): Promise<Gate> {
  let completed = 0;
  let onHold!: () => void;
  const holding = new Promise<void>((r) => { onHold = r; });
  const held: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const counted = matches(req);
    if (counted && completed >= allow) { held.push(res); onHold(); return; }
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
      up.once('end', () => { if (counted) completed++; });
    });
    upstream.once('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    holding,
    close: () => new Promise<void>((r) => { for (const res of held) res.destroy(); server.closeAllConnections(); server.close(() => r()); }),
  };
}
