/** Live prediction of a generated lenet5 run in workerd, its files written into the R2 binding by lib/synthetic.ts. */
import { env, SELF } from 'cloudflare:test';
import { beforeAll } from 'vitest';
import { R2Store } from '../../api/r2-store.ts';
import { writeSyntheticRun } from '../../lib/synthetic.ts';
import { LATEST_KEY } from '../../lib/store.ts';
import { cnnRunBehaviours } from '../api/cnn-behaviours.ts';
import { CNN_RUN } from '../cnn-run.ts';

const store = new R2Store(env.RUNS);
beforeAll(async () => {
  const latest = await env.RUNS.get(LATEST_KEY);
  const previous = latest ? await latest.text() : null;
  await writeSyntheticRun(store, { ...CNN_RUN, sparsities: [...CNN_RUN.sparsities], quantizations: [...CNN_RUN.quantizations] });
  // The generator points latest at its run; other tests expect the bucket's own latest.
  if (previous !== null) await env.RUNS.put(LATEST_KEY, previous);
  else await env.RUNS.delete(LATEST_KEY);
});

cnnRunBehaviours(() => ({ key: 'worker-test-key', fetch: (path, init) => SELF.fetch(`https://pie.test${path}`, init) }), () => store);
