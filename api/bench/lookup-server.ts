/**
 * One server process for the lookup benchmark (bench:api): PIE Lens's API and, beside it on the
 * same port, a bare Hono route returning the very same JSON (each image's answer, computed once
 * through the API beforehand). The benchmark alternates between the two, so both see the same
 * machine load. Prints `listening at <url>` when ready.
 *   node --import tsx api/bench/lookup-server.ts <runs-dir> <run-id> <images>
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { FsStore } from '../../node/store-fs.ts';
import { createApp } from '../app.ts';
import { optionsFromEnv } from '../context.ts';
import { RunRepository } from '../runs.ts';

const [runsDir, runId, count] = process.argv.slice(2);
const options = { ...optionsFromEnv({}), publicReads: true };
const pie = createApp(new RunRepository(new FsStore(runsDir)), options);
const n = Number(count);
const answers: unknown[] = [];
for (let i = 0; i < n; i++) answers.push(await (await pie.request(`/v1/runs/${runId}/images/${i}`)).json());

const app = new Hono();
app.get('/bare/images/:index', (c) => c.json(answers[Number(c.req.param('index')) % n]));
app.route('/', pie);
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => {
  console.log(`listening at http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
