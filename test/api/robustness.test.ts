/** The robustness and subgroup routes over real HTTP on Node, on a run the CLI makes (test/robust-run.ts). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { startNodeServer, type NodeServer } from '../../api/node.ts';
import { buildRobustRun } from '../robust-run.ts';
import { robustnessBehaviours } from './robustness-behaviours.ts';

let server: NodeServer, plain: NodeServer;
let runsDir: string, runId: string;
const auth = { headers: { authorization: 'Bearer k' } };
beforeAll(async () => {
  ({ runsDir, runId } = buildRobustRun());
  server = await startNodeServer({ runsDir, port: 0, env: { PIE_API_KEYS: 'k' } });
  plain = await startNodeServer({ runsDir: inject('tinyRunDir'), port: 0, env: { PIE_API_KEYS: 'k' } });
}, 120_000);
afterAll(() => { server?.close(); plain?.close(); });

describe('robustness and subgroups on Node', () => {
  robustnessBehaviours(() => ({
    get: (path) => fetch(`${server.url}${path}`, auth),
    getPlain: (path) => fetch(`${plain.url}${path}`, auth),
    file: (path) => new Uint8Array(readFileSync(join(runsDir, runId, path))),
    runId,
  }));
});
