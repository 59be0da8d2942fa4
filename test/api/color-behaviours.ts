/**
 * A colour run made from an image folder (test/global-setup.ts), served by both entry points:
 * the overview says colour, image.png is colour and holds exactly the evaluation image, and the
 * original files of dataset images — odd-size PNG, JPEG, CMYK JPEG — uploaded for a live
 * prediction get exactly their precomputed answers. Web-standard APIs only: runs in both runtimes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { zlibSync } from 'fflate';
import { decodeImage } from '../../lib/image/index.ts';
import { concat, ihdr, pngChunk, pngImageData, PNG_SIGNATURE } from '../../lib/image/testing.ts';
import type { ApiClient } from './behaviours.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface ColorRun {
  files: Record<string, string>;
  uploads: { index: number; path: string; type: string; base64: string }[];
  /** A 12-megapixel JPEG, base64. */
  photo: string;
}

const bytesOf = (b64: string) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));

export function colorRunBehaviours(getClient: () => ApiClient, getRun: () => ColorRun) {
  let api: ApiClient;
  let run: ColorRun;
  let runId: string;
  const auth = (init: RequestInit = {}): RequestInit => ({ ...init, headers: { authorization: `Bearer ${api.key}`, ...(init.headers as Record<string, string>) } });
  const getJson = async (path: string): Promise<Json> => {
    const r = await api.fetch(path, auth());
    expect(r.status, `${path}: ${r.status}`).toBe(200);
    return r.json() as Promise<Json>;
  };
  const predictions = (a: Json) => a.levels.map((l: Json) => [l.level, l.memberPredictions, l.modal.index, l.isPie]);

  beforeAll(() => {
    api = getClient();
    run = getRun();
    runId = new TextDecoder().decode(bytesOf(run.files.latest)).trim();
  });

  describe('a colour image-folder run', () => {
    it('is described as colour, with the folder names as classes', async () => {
      const ov = await getJson(`/v1/runs/${runId}`);
      expect(ov.dataset).toMatchObject({ format: 'folder', inputShape: [24, 24, 3], classNames: ['bird', 'cat', 'dog'], polarity: 'mixed' });
    });

    it('serves image.png in colour, pixel for pixel the evaluation image', async () => {
      const images = bytesOf(run.files[`${runId}/eval/images.bin`]);
      for (const { index } of run.uploads) {
        const r = await api.fetch(`/v1/runs/${runId}/images/${index}/image.png`, auth());
        expect(r.status).toBe(200);
        const png = decodeImage(new Uint8Array(await r.arrayBuffer()), 'image/png', undefined, { color: true });
        expect([png.width, png.height]).toEqual([24, 24]);
        expect(png.rgb).toBeDefined();
        const px = 24 * 24 * 3;
        expect(Array.from(png.rgb!)).toEqual(Array.from(images.subarray(index * px, (index + 1) * px)));
      }
    });

    it('answers an upload of each original file (odd sizes, JPEG, CMYK) exactly as its dataset image', async () => {
      for (const u of run.uploads) {
        expect(u.index, u.path).toBeGreaterThanOrEqual(0);
        const precomputed = await getJson(`/v1/runs/${runId}/images/${u.index}`);
        const r = await api.fetch(`/v1/runs/${runId}/predict`, auth({ method: 'POST', body: bytesOf(u.base64), headers: { 'content-type': u.type } }));
        expect(r.status, u.path).toBe(200);
        const live = await r.json() as Json;
        expect(live.image.preprocessing).toMatchObject({ inverted: false, datasetPolarity: 'mixed', target: { width: 24, height: 24, channels: 3 } });
        expect(predictions(live), u.path).toEqual(predictions(precomputed));
      }
    });

    it('answers a dataset image sent as JSON colour pixels, nested or flat, exactly as precomputed', async () => {
      const images = bytesOf(run.files[`${runId}/eval/images.bin`]);
      const px = 24 * 24 * 3;
      for (const { index } of run.uploads.slice(0, 2)) {
        const rgb = Array.from(images.subarray(index * px, (index + 1) * px));
        const nested = Array.from({ length: 24 }, (_, y) => Array.from({ length: 24 }, (_, x) => rgb.slice(3 * (24 * y + x), 3 * (24 * y + x) + 3)));
        const precomputed = predictions(await getJson(`/v1/runs/${runId}/images/${index}`));
        for (const body of [{ pixels: nested, scale: '0-255' }, { pixels: rgb, width: 24, height: 24, channels: 3, scale: '0-255' }]) {
          const r = await api.fetch(`/v1/runs/${runId}/predict`, auth({ method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }));
          expect(r.status).toBe(200);
          const live = await r.json() as Json;
          expect(live.image.preprocessing).toMatchObject({ format: 'pixels', resample: 'none', target: { width: 24, height: 24, channels: 3 } });
          expect(predictions(live)).toEqual(precomputed);
        }
      }
      // A channel count that does not match the array is a 422 naming it.
      const bad = await api.fetch(`/v1/runs/${runId}/predict`, auth({ method: 'POST', body: JSON.stringify({ pixels: [1, 2, 3, 4], width: 2, height: 2, channels: 3 }), headers: { 'content-type': 'application/json' } }));
      expect(bad.status).toBe(422);
      expect(JSON.stringify(await bad.json())).toMatch(/pixels has 4 values; width × height × channels is 2×2×3 = 12/);
    });

    it('answers a 12-megapixel JPEG photo, decoded at 1/8 scale (on Workers too, under its decoder-memory limit)', async () => {
      const r = await api.fetch(`/v1/runs/${runId}/predict`, auth({ method: 'POST', body: bytesOf(run.photo), headers: { 'content-type': 'image/jpeg' } }));
      expect(r.status, await r.clone().text()).toBe(200);
      const live = await r.json() as Json;
      expect(live.image.preprocessing).toMatchObject({ format: 'jpeg', dctScale: 8, source: { width: 500, height: 375 }, target: { width: 24, height: 24, channels: 3 } });
      expect(live.levels[0].memberPredictions).toHaveLength(2);
    });

    it('answers a 12-megapixel PNG, row-streamed at 1/8 scale (on Workers too, under its decoder-memory limit)', async () => {
      // 4000×3000 RGB, smooth, unfiltered rows: ~190 MB to decode at full size, a few MB to send.
      const w = 4000, h = 3000, stride = 1 + 3 * w;
      const raw = new Uint8Array(h * stride);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        const at = y * stride + 1 + 3 * x;
        raw[at] = x >> 4; raw[at + 1] = y >> 4; raw[at + 2] = 100;
      }
      const png = concat(PNG_SIGNATURE, ihdr(w, h, 8, 2), pngChunk('IDAT', zlibSync(raw, { level: 1 })), pngChunk('IEND'));
      const r = await api.fetch(`/v1/runs/${runId}/predict`, auth({ method: 'POST', body: png, headers: { 'content-type': 'image/png' } }));
      expect(r.status, await r.clone().text()).toBe(200);
      const live = await r.json() as Json;
      expect(live.image.preprocessing).toMatchObject({ format: 'png', dctScale: 8, source: { width: 500, height: 375 } });
    });

    it('answers a 12-megapixel Adam7-interlaced PNG, row-streamed at 1/8 scale like a non-interlaced one', async () => {
      // The same smooth 4000×3000 RGB, stored as Adam7's seven passes.
      const w = 4000, h = 3000, row = new Uint8Array(3 * w);
      const raw = pngImageData(w, h, 24, (y) => {
        for (let x = 0; x < w; x++) { row[3 * x] = x >> 4; row[3 * x + 1] = y >> 4; row[3 * x + 2] = 100; }
        return row;
      }, { interlaced: true });
      const png = concat(PNG_SIGNATURE, ihdr(w, h, 8, 2, 1), pngChunk('IDAT', zlibSync(raw, { level: 1 })), pngChunk('IEND'));
      const r = await api.fetch(`/v1/runs/${runId}/predict`, auth({ method: 'POST', body: png, headers: { 'content-type': 'image/png' } }));
      expect(r.status, await r.clone().text()).toBe(200);
      const live = await r.json() as Json;
      expect(live.image.preprocessing).toMatchObject({ format: 'png', dctScale: 8, source: { width: 500, height: 375 } });
      expect(live.levels[0].memberPredictions).toHaveLength(2);
    });

    it('refuses, before parsing it, a JSON pixel array whose parsing would pass the decoder-memory limit (48 MiB)', async () => {
      // 2000×2000 zeros: 8 MB of JSON, within the body limit, ~120 MB once parsed.
      const body = `{"pixels":[0${',0'.repeat(2000 * 2000 - 1)}],"width":2000,"height":2000}`;
      const r = await api.fetch(`/v1/runs/${runId}/predict`, auth({ method: 'POST', body, headers: { 'content-type': 'application/json' } }));
      expect(r.status).toBe(413);
      expect(JSON.stringify(await r.json())).toMatch(/JSON pixel body needs about [0-9.]+ MiB of memory; the limit is 48.0 MiB/);
    });

    it('answers an upload of its own image.png exactly as the dataset image', async () => {
      const { index } = run.uploads[0];
      const png = await (await api.fetch(`/v1/runs/${runId}/images/${index}/image.png?scale=1`, auth())).arrayBuffer();
      const live = await (await api.fetch(`/v1/runs/${runId}/predict`, auth({ method: 'POST', body: png, headers: { 'content-type': 'image/png' } }))).json() as Json;
      expect(live.image.preprocessing.resample).toBe('none');
      expect(predictions(live)).toEqual(predictions(await getJson(`/v1/runs/${runId}/images/${index}`)));
    });
  });
}
