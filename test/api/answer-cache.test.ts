/** Dataset-image answers kept as JSON text: the same bytes as a freshly built answer, within their memory bound. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { AnswerCache } from '../../api/answer-cache.ts';
import { createApp } from '../../api/app.ts';
import { optionsFromEnv } from '../../api/context.ts';
import { RunRepository, type LoadedRun } from '../../api/runs.ts';
import { FsStore } from '../../node/store-fs.ts';

const runOf = (etag: string) => ({ etag }) as LoadedRun;

describe('AnswerCache', () => {
  it('keys answers by run content, image and corrupted set', () => {
    const cache = new AnswerCache(1 << 20);
    const a = runOf('"aaaa"'), b = runOf('"bbbb"');
    cache.set(a, 1, undefined, '{"a":1}');
    cache.set(a, 1, 'rotate-3', '{"a":"rotate"}');
    expect(cache.get(a, 1, undefined)).toBe('{"a":1}');
    expect(cache.get(a, 1, 'rotate-3')).toBe('{"a":"rotate"}');
    expect(cache.get(a, 11, undefined)).toBeUndefined();
    // Another manifest under the same run id is another run.
    expect(cache.get(b, 1, undefined)).toBeUndefined();
  });

  it('holds no more than its bound, dropping the least recently used, and counts non-Latin-1 text twice', () => {
    const cache = new AnswerCache(10_000);
    const run = runOf('"r"');
    const answer = `{"x":"${'a'.repeat(900)}"}`;
    for (let i = 0; i < 50; i++) {
      cache.set(run, i, undefined, answer);
      cache.get(run, 0, undefined); // keeps image 0 recently used
      expect(cache.bytes).toBeLessThanOrEqual(10_000);
    }
    expect(cache.get(run, 0, undefined)).toBe(answer);
    expect(cache.get(run, 1, undefined)).toBeUndefined();
    expect(cache.get(run, 49, undefined)).toBe(answer);

    const latin = new AnswerCache(1 << 20), wide = new AnswerCache(1 << 20);
    latin.set(run, 0, undefined, 'é'.repeat(1000));
    wide.set(run, 0, undefined, 'ж'.repeat(1000));
    expect(wide.bytes - latin.bytes).toBe(1000);
  });

  it('does not keep an answer larger than the whole bound', () => {
    const cache = new AnswerCache(100);
    cache.set(runOf('"r"'), 0, undefined, 'x'.repeat(200));
    expect(cache.get(runOf('"r"'), 0, undefined)).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });
});

describe('cached dataset-image lookups', () => {
  it('answer every image with the bytes an app that keeps nothing builds, named by id or latest', async () => {
    const dir = inject('tinyRunDir');
    const runId = readFileSync(join(dir, 'latest'), 'utf8').trim();
    const options = { ...optionsFromEnv({}), publicReads: true };
    const cached = createApp(new RunRepository(new FsStore(dir)), options);
    const building = createApp(new RunRepository(new FsStore(dir)), { ...options, answerCacheBytes: 1 });
    const text = async (app: typeof cached, path: string) => {
      const r = await app.request(path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/json');
      return r.text();
    };
    for (let i = 0; i < 500; i += 7) {
      const built = await text(building, `/v1/runs/${runId}/images/${i}`);
      expect(JSON.parse(built).image.index).toBe(i);
      expect(await text(cached, `/v1/runs/${runId}/images/${i}`)).toBe(built);
      expect(await text(cached, `/v1/runs/${runId}/images/${i}`)).toBe(built); // from the cache
      expect(await text(cached, `/v1/runs/latest/images/${i}`)).toBe(built);
    }
  });

  it('refuse bad input the same way on every request, once answers are cached', async () => {
    const dir = inject('tinyRunDir');
    const app = createApp(new RunRepository(new FsStore(dir)), { ...optionsFromEnv({}), publicReads: true });
    expect((await app.request('/v1/runs/latest/images/3')).status).toBe(200);
    for (let k = 0; k < 2; k++) {
      for (const [path, status, code] of [
        ['/v1/runs/latest/images/3?corruption=rotate-3', 400, 'bad_corruption'], // the tiny run evaluated no corrupted sets
        ['/v1/runs/latest/images/0x3', 400, 'bad_input'],
        ['/v1/runs/latest/images/500', 404, 'not_found'],
      ] as const) {
        const r = await app.request(path);
        expect(r.status, path).toBe(status);
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe(code);
      }
    }
  });
});
