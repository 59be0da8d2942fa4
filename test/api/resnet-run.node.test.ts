/** The CLI-trained resnet run through @hono/node-server over real HTTP, from its local files. */
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { startNodeServer, type NodeServer } from '../../api/node.ts';
import { resnetRunBehaviours } from './resnet-run-behaviours.ts';

let server: NodeServer;
beforeAll(async () => {
  server = await startNodeServer({ runsDir: inject('resnetRunDir'), port: 0, env: { PIE_API_KEYS: 'node-test-key' } });
});
afterAll(() => server?.close());

describe('resnet run on Node', () => {
  resnetRunBehaviours(
    () => ({ key: 'node-test-key', fetch: (path, init) => fetch(`${server.url}${path}`, init) }),
    () => ({ files: inject('resnetRunFiles'), uploads: inject('resnetUploads') }),
  );
});
