/** The colour image-folder run through @hono/node-server over real HTTP, from local files. */
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { startNodeServer, type NodeServer } from '../../api/node.ts';
import { colorRunBehaviours } from './color-behaviours.ts';

let server: NodeServer;
beforeAll(async () => {
  // With a Worker's decoder-memory limit (api/worker.ts), so both entry points face the same limits.
  server = await startNodeServer({ runsDir: inject('colorRunDir'), port: 0, env: { PIE_API_KEYS: 'node-test-key' }, options: { imageLimits: { maxDecodeMemory: 48 * 1024 * 1024 } } });
});
afterAll(() => server?.close());

describe('colour run on Node', () => {
  colorRunBehaviours(
    () => ({ key: 'node-test-key', fetch: (path, init) => fetch(`${server.url}${path}`, init) }),
    () => ({ files: inject('colorRunFiles'), uploads: inject('colorUploads'), photo: inject('photoJpeg') }),
  );
});
