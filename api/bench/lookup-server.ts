/**
 * One server process for the lookup benchmark (bench:api): PIE Lens's API beside bare Hono routes
 * returning the very same JSON (each image's answer, computed once through the API beforehand),
 * on node/server.ts's listener as `pie serve` uses it. The benchmark alternates between them, so
 * all see the same machine load. Three listeners, PIE Lens set up differently on each:
 *
 *   public     PIE_PUBLIC_READS=true (the local quickstart's setting), and on the same port
 *              /bare/images/:index       c.json of the answer object: serialized per request,
 *                                        as a handler returning an object is
 *              /bare-text/images/:index  the answer's JSON text, serialized once
 *   key        every request must carry `Authorization: Bearer <key>` (PIE_API_KEYS, as deployed)
 *   uncached   public reads, but no answer is kept: every lookup builds and serializes its answer
 *   control    GET /cpu: the process's CPU time so far
 *
 * Prints `listening <name> at <url>` for each, then `ready`.
 *   node --import tsx api/bench/lookup-server.ts <runs-dir> <run-id> <images> <key>
 */
import { Hono } from 'hono';
import { FsStore } from '../../node/store-fs.ts';
import { listen } from '../../node/server.ts';
import { createApp } from '../app.ts';
import { optionsFromEnv } from '../context.ts';
import { RunRepository } from '../runs.ts';

const [runsDir, runId, count, key] = process.argv.slice(2);
if (!key) throw new Error('usage: lookup-server.ts <runs-dir> <run-id> <images> <key>');
const publicReads = { ...optionsFromEnv({}), publicReads: true };
const repo = () => new RunRepository(new FsStore(runsDir));
const apps = {
  public: createApp(repo(), publicReads),
  key: createApp(repo(), optionsFromEnv({ PIE_API_KEYS: key })),
  uncached: createApp(repo(), { ...publicReads, answerCacheBytes: 1 }),
};
const n = Number(count);
const texts: string[] = [];
for (let i = 0; i < n; i++) texts.push(await (await apps.uncached.request(`/v1/runs/${runId}/images/${i}`)).text());
const answers: unknown[] = texts.map((t) => JSON.parse(t));

const bare = new Hono();
bare.get('/bare/images/:index', (c) => c.json(answers[Number(c.req.param('index')) % n]));
bare.get('/bare-text/images/:index', (c) => c.body(texts[Number(c.req.param('index')) % n], 200, { 'Content-Type': 'application/json' }));
bare.route('/', apps.public);

// The process's CPU time so far (µs), on a listener of its own, so the benchmark can divide this
// process's work by the requests it served: steadier than requests/s on a shared machine.
const control = new Hono().get('/cpu', (c) => c.json(process.cpuUsage()));
for (const [name, app] of [['public', bare], ['key', apps.key], ['uncached', apps.uncached], ['control', control]] as const) {
  console.log(`listening ${name} at ${(await listen(app.fetch, { port: 0 })).url}`);
}
console.log('ready');
