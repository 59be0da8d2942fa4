import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface LocalS3 {
  endpoint: string;
  bucket: string;
  /** Where s3rver keeps the objects (one file per object plus metadata). */
  directory: string;
  stop(): Promise<void>;
}

/**
 * Starts s3rver (trainer/dev/local-s3-server.ts) in its own process on 127.0.0.1 and a free port.
 * Clients must use path-style addressing and `WHEN_REQUIRED` checksums with it (S3Store does
 * both when given an endpoint), and the key pair s3rver knows: AWS_ACCESS_KEY_ID=S3RVER,
 * AWS_SECRET_ACCESS_KEY=S3RVER.
 */
export async function startLocalS3(opts: { bucket?: string; dir?: string } = {}): Promise<LocalS3> {
  const args = ['--openssl-legacy-provider', '--import', 'tsx', fileURLToPath(new URL('./local-s3-server.ts', import.meta.url)), '--port', '0'];
  if (opts.bucket) args.push('--bucket', opts.bucket);
  if (opts.dir) args.push('--dir', opts.dir);
  // From the repository root, so that `--import tsx` resolves whatever the caller's directory.
  const child = spawn(process.execPath, args, { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const ready = await new Promise<{ endpoint: string; bucket: string; directory: string }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolve(JSON.parse(line)));
    child.once('exit', (code) => reject(new Error(`local S3 server exited with code ${code}: ${stderr.trim()}`)));
    child.once('error', reject);
  });
  return {
    ...ready,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
