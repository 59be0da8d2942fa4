/** Live prediction of a generated lenet5 run on Node (test/api/cnn-behaviours.ts). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startNodeServer, type NodeServer } from '../../api/node.ts';
import { writeSyntheticRun } from '../../lib/synthetic.ts';
import { FsStore } from '../../node/store-fs.ts';
import { CNN_RUN } from '../cnn-run.ts';
import { cnnRunBehaviours } from './cnn-behaviours.ts';

let server: NodeServer;
let store: FsStore;
beforeAll(async () => {
  store = new FsStore(mkdtempSync(join(tmpdir(), 'pie-cnn-run-')));
  await writeSyntheticRun(store, { ...CNN_RUN, sparsities: [...CNN_RUN.sparsities], quantizations: [...CNN_RUN.quantizations] });
  server = await startNodeServer({ store, port: 0, env: { PIE_API_KEYS: 'node-test-key' } });
});
afterAll(() => server?.close());

cnnRunBehaviours(() => ({ key: 'node-test-key', fetch: (path, init) => fetch(`${server.url}${path}`, init) }), () => store);
