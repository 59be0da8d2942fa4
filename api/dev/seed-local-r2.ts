/**
 * Copies a local runs directory into the local R2 bucket that `wrangler dev` serves, so the
 * Worker can be tried against a real run without a Cloudflare account:
 *   npm run dev:worker          (= this script, then wrangler dev)
 * Writes through Miniflare, the simulator wrangler dev runs on, into the same persistence
 * directory (`<persist-to>/v3/r2`) and bucket name (wrangler.toml's bucket_name).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Miniflare } from 'miniflare';

export async function seedLocalR2(runsDir: string, persistTo: string, bucketName: string): Promise<number> {
  const files = (readdirSync(runsDir, { recursive: true }) as string[])
    .filter((rel) => !rel.endsWith('.tmp') && statSync(join(runsDir, rel)).isFile());
  if (!files.includes('latest')) throw new Error(`${runsDir} holds no finished run (no 'latest' pointer): run 'npm start' or 'pie run' first`);
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response(null, { status: 204 }); } }',
    r2Buckets: { RUNS: bucketName },
    r2Persist: join(persistTo, 'v3', 'r2'),
  });
  try {
    // Miniflare's own R2 types do not resolve without the Workers type package; `put` is all we use.
    const bucket = (await mf.getR2Bucket('RUNS')) as unknown as { put(key: string, value: ArrayBuffer): Promise<unknown> };
    // `latest` last, as a publisher would: a reader never sees a pointer to a partial run.
    for (const rel of [...files.filter((f) => f !== 'latest'), 'latest']) {
      const b = readFileSync(join(runsDir, rel));
      // A plain ArrayBuffer: Node's pooled Buffers do not cross Miniflare's proxy.
      await bucket.put(rel.split('\\').join('/'), b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
    }
  } finally {
    await mf.dispose();
  }
  return files.length;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      'runs-dir': { type: 'string', default: 'runs' },
      'persist-to': { type: 'string', default: '.wrangler/state' },
      bucket: { type: 'string', default: 'pie-lens-runs' },
    },
  });
  const runsDir = resolve(values['runs-dir']!);
  const n = await seedLocalR2(runsDir, resolve(values['persist-to']!), values.bucket!);
  console.log(`seeded ${n} objects from ${runsDir} into local R2 bucket '${values.bucket}' (${values['persist-to']})`);
}
