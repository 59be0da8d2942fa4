/** The API's behaviours through @hono/node-server over real HTTP, serving the run from local files. */
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { startNodeServer, type NodeServer } from '../../api/node.ts';
import { apiBehaviours } from './behaviours.ts';

let server: NodeServer;
beforeAll(async () => {
  server = await startNodeServer({ runsDir: inject('tinyRunDir'), port: 0, env: { PIE_API_KEYS: 'key-1,node-test-key' } });
});
afterAll(() => server?.close());

describe('API on Node', () => {
  apiBehaviours(() => ({ key: 'node-test-key', fetch: (path, init) => fetch(`${server.url}${path}`, init) }));
});
