/**
 * A resnet trained through the CLI on a colour image folder (test/global-setup.ts), served live:
 * the manifest names the architecture and how pruning met BatchNorm, and each uploaded original
 * test file gets exactly its precomputed answer (every member of every level, modal label, PIE).
 * Web-standard APIs only: runs on Node and in workerd.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from './behaviours.ts';
import type { ColorUpload } from '../global-setup.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface ResnetRun { files: Record<string, string>; uploads: ColorUpload[] }

const bytesOf = (b64: string) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));

export function resnetRunBehaviours(getClient: () => ApiClient, getRun: () => ResnetRun) {
  let api: ApiClient;
  let run: ResnetRun;
  let runId: string;
  const auth = (init: RequestInit = {}): RequestInit => ({ ...init, headers: { authorization: `Bearer ${api.key}`, ...(init.headers as Record<string, string>) } });
  const predictions = (a: Json) => a.levels.map((l: Json) => [l.level, l.memberPredictions, l.modal.index, l.isPie]);

  beforeAll(() => {
    api = getClient();
    run = getRun();
    runId = new TextDecoder().decode(bytesOf(run.files.latest)).trim();
  });

  describe('a trained resnet-8 run on colour images', () => {
    it('records the architecture, the pruning of folded weights and every level kind', () => {
      const manifest = JSON.parse(new TextDecoder().decode(bytesOf(run.files[`${runId}/manifest.json`]))) as Json;
      expect(manifest.architecture.name).toBe('resnet');
      expect(manifest.architecture.arch.input).toEqual([24, 24, 3]);
      expect(manifest.architecture.pruning).toMatch(/BatchNorm/);
      expect(manifest.levels.map((l: Json) => l.format)).toEqual(['dense-f32', 'sparse-f32', 'f16', 'int8-dynamic', 'int8-full']);
    });

    it('answers an upload of each original test PNG exactly as its precomputed answer', async () => {
      expect(run.uploads.length).toBeGreaterThan(2);
      for (const u of run.uploads) {
        const pre = await api.fetch(`/v1/runs/${runId}/images/${u.index}`, auth());
        expect(pre.status, u.path).toBe(200);
        const precomputed = (await pre.json()) as Json;
        const r = await api.fetch(`/v1/runs/${runId}/predict`, auth({ method: 'POST', body: bytesOf(u.base64), headers: { 'content-type': u.type } }));
        expect(r.status, `${u.path}: ${await r.clone().text()}`).toBe(200);
        const live = (await r.json()) as Json;
        expect(live.image.preprocessing).toMatchObject({ target: { width: 24, height: 24, channels: 3 } });
        expect(predictions(live), u.path).toEqual(predictions(precomputed));
      }
    });
  });
}
