/**
 * Live prediction of a convolutional run (test/cnn-run.ts, written by lib/synthetic.ts into the
 * store under test): an uploaded evaluation image gets, per member, the class that lib's
 * predictor gives for that member's model file. Runs on Node and in workerd (web APIs only).
 */
import { describe, expect, it } from 'vitest';
import { encodePng } from '../../lib/image/encode.ts';
import { createPredictor, decodeModel } from '../../lib/model/index.ts';
import type { Store } from '../../lib/store.ts';
import { CNN_RUN } from '../cnn-run.ts';
import type { ApiClient } from './behaviours.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function cnnRunBehaviours(getClient: () => ApiClient, getStore: () => Store) {
  const run = `/v1/runs/${CNN_RUN.runId}`;

  describe('a lenet5 run, live', () => {
    it('an uploaded image gets, from every member of every level, the class lib predicts from its model file', async () => {
      const api = getClient();
      const store = getStore();
      const manifest = JSON.parse(new TextDecoder().decode((await store.get(`${CNN_RUN.runId}/manifest.json`))!)) as Json;
      expect(manifest.levels.map((l: Json) => l.format)).toEqual(['dense-f32', 'sparse-f32', 'sparse-f32', 'f16', 'int8-dynamic', 'int8-full']);
      const images = (await store.get(`${CNN_RUN.runId}/eval/images.bin`))!;
      const px = CNN_RUN.imageSize * CNN_RUN.imageSize;
      const predictors = await Promise.all(manifest.levels.map((l: Json) => Promise.all(l.members.map(async (m: Json) => {
        const model = decodeModel((await store.get(`${CNN_RUN.runId}/${m.model}`))!);
        expect(model.arch?.name).toBe('lenet5');
        return createPredictor(model, { kernels: 'js' });
      }))));
      let differing = 0;
      for (const index of [0, 7, 13]) {
        const gray = images.slice(index * px, (index + 1) * px);
        const r = await api.fetch(`${run}/predict`, {
          method: 'POST', headers: { authorization: `Bearer ${api.key}`, 'content-type': 'image/png' }, body: encodePng(gray, CNN_RUN.imageSize, CNN_RUN.imageSize),
        });
        expect(r.status, await r.clone().text()).toBe(200);
        const answer = (await r.json()) as Json;
        const x = Float32Array.from(gray, (v) => v / 255);
        const expected = predictors.map((level) => level.map((p: ReturnType<typeof createPredictor>) => p.predictBatch(x, 1)[0]));
        expect(answer.levels.map((l: Json) => l.memberPredictions)).toEqual(expected);
        if (new Set(expected.flat()).size > 1) differing++;
      }
      // Random members disagree somewhere, so equal answers are not all one constant class.
      expect(differing).toBeGreaterThan(0);
    });
  });
}
