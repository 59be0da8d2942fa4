/**
 * The API's behaviours, written once and run against both entry points: Node over HTTP
 * (test/api/node.test.ts) and the Worker inside workerd with an R2 bucket (test/workers/).
 * Only web-standard APIs here: this file runs in both runtimes.
 */
import { beforeAll, describe, expect, it } from 'vitest';

export interface ApiClient {
  /** Request a path of the API under test. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** A valid API key. */
  key: string;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function apiBehaviours(getClient: () => ApiClient) {
  let api: ApiClient;
  const auth = (init: RequestInit = {}): RequestInit => ({ ...init, headers: { authorization: `Bearer ${api.key}`, ...(init.headers as Record<string, string>) } });
  const get = async (path: string, init?: RequestInit) => api.fetch(path, auth(init));
  const getJson = async (path: string): Promise<Json> => {
    const r = await get(path);
    expect(r.status, `${path}: ${r.status}`).toBe(200);
    return r.json() as Promise<Json>;
  };
  const expectError = async (r: Response, status: number, code?: string) => {
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    const body = await r.json() as Json;
    expect(typeof body.error?.message).toBe('string');
    if (code) expect(body.error.code).toBe(code);
    return body;
  };

  let overview: Json;
  let pieIndex: number;
  beforeAll(async () => {
    api = getClient();
    overview = await getJson('/v1/runs/latest');
    const queue = await getJson('/v1/runs/latest/review?level=p90&limit=1');
    pieIndex = queue.items[0].index;
  });

  describe('health and auth', () => {
    it('health answers without a key', async () => {
      const r = await api.fetch('/health');
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ status: 'ok', latestRun: overview.runId });
    });
    it('data routes need a valid bearer key', async () => {
      await expectError(await api.fetch('/v1/runs/latest'), 401, 'unauthorized');
      await expectError(await api.fetch('/v1/runs/latest', { headers: { authorization: 'Bearer wrong' } }), 401, 'unauthorized');
    });
  });

  describe('run data', () => {
    it('overview lists levels with accuracy, PIE counts and impacted classes', async () => {
      expect(overview.levels.map((l: Json) => l.name)).toEqual(['dense', 'p50', 'p90', 'f16', 'int8-dyn', 'int8-full']);
      expect(overview.K).toBe(4);
      expect(overview.levels[0].pieCount).toBe(0);
      for (const l of overview.levels) {
        expect(l.accuracy.mean).toBeGreaterThan(0);
        if (l.kind === 'dense') continue;
        // The PIE count is the review queue's length; the impacted counts are the class table's.
        expect((await getJson(`/v1/runs/latest/review?level=${l.name}&limit=1`)).total).toBe(l.pieCount);
        const rows = (await getJson(`/v1/runs/latest/classes?level=${l.name}`)).levels[0].classes;
        const count = (pred: (r: Json) => boolean) => rows.filter(pred).length;
        expect(l.impacted).toEqual({
          down: count((r) => r.significant && r.direction === 'down'), up: count((r) => r.significant && r.direction === 'up'),
          downAdjusted: count((r) => r.significantAdjusted && r.t < 0), upAdjusted: count((r) => r.significantAdjusted && r.t > 0),
        });
      }
    });
    it('a dataset image: votes, modal labels, PIE status, taxicab and class context per level', async () => {
      const a = await getJson(`/v1/runs/latest/images/${pieIndex}`);
      expect(a.image).toMatchObject({ source: 'dataset', index: pieIndex });
      expect(a.trueLabel.name).toMatch(/^class \d$/);
      expect(a.pieLevels).toContain('p90');
      for (const l of a.levels) {
        // Sparse votes: only classes with votes, summing to K, each as many as the member predictions say.
        const counts = Object.values(l.voteCounts as Record<string, number>);
        expect(counts.every((n) => n > 0)).toBe(true);
        expect(counts.reduce((s, n) => s + n, 0)).toBe(4);
        for (const [c, n] of Object.entries(l.voteCounts as Record<string, number>)) expect(l.memberPredictions.filter((p: number) => p === Number(c)).length).toBe(n);
        expect(l.memberPredictions).toHaveLength(4);
        expect(l.isPie).toBe(l.level !== 'dense' && l.modal.index !== a.denseModal.index);
      }
      const p90 = a.levels.find((l: Json) => l.level === 'p90');
      expect(p90.taxicab).toBeGreaterThan(0);
      expect(p90.classContext.map((r: Json) => r.roles).flat()).toEqual(expect.arrayContaining(['true', 'dense-modal', 'level-modal']));
      // Each context row is the class table's row for that class at that level.
      const table = (await getJson('/v1/runs/latest/classes?level=p90')).levels[0].classes;
      for (const r of p90.classContext) {
        const row = table.find((x: Json) => x.index === r.index);
        expect(r).toMatchObject({ name: row.name, p: row.p, pAdjusted: row.pAdjusted, significant: row.significant, direction: row.direction });
      }
    });
    it('serves the image itself as PNG, enlarged on request', async () => {
      const r = await get(`/v1/runs/latest/images/${pieIndex}/image.png?scale=4`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('image/png');
      const bytes = new Uint8Array(await r.arrayBuffer());
      expect([...bytes.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    });
    it('class table for a level', async () => {
      const c = await getJson('/v1/runs/latest/classes?level=p90');
      expect(c.levels).toHaveLength(1);
      expect(c.levels[0].classes).toHaveLength(10);
      for (const r of c.levels[0].classes) {
        // Significant exactly when p ≤ alpha; the direction is the sign of t then, 'none' otherwise.
        expect(r.significant).toBe(r.p !== null && r.p <= c.alpha);
        expect(r.direction).toBe(r.significant ? (r.t < 0 ? 'down' : 'up') : 'none');
        expect(r.pAdjusted === null || r.p === null || r.pAdjusted >= r.p).toBe(true);
      }
    });
    it('immutable run data carries ETags and cache headers, and answers 304 when unchanged', async () => {
      const path = `/v1/runs/${overview.runId}/images/3`;
      const r = await get(path);
      const tag = r.headers.get('etag');
      expect(tag).toBeTruthy();
      expect(r.headers.get('cache-control')).toMatch(/immutable/);
      const again = await get(path, { headers: { 'if-none-match': tag! } });
      expect(again.status).toBe(304);
      expect((await get('/v1/runs/latest')).headers.get('cache-control')).toMatch(/max-age=30/);
    });
  });

  describe('review queue', () => {
    it('pages through every PIE of a level, sorted by taxicab score, with a cursor', async () => {
      const total = overview.levels.find((l: Json) => l.name === 'p90').pieCount;
      const seen: number[] = [];
      let scores: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Json = await getJson(`/v1/runs/latest/review?level=p90&limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(page.total).toBe(total);
        seen.push(...page.items.map((i: Json) => i.index));
        scores = scores.concat(page.items.map((i: Json) => i.taxicab));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 200);
      expect(seen.length).toBe(total);
      expect(new Set(seen).size).toBe(total);
      for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeLessThanOrEqual(scores[i - 1]);
    });
    it('filters by true class and modal labels', async () => {
      const all = await getJson('/v1/runs/latest/review?level=p90&limit=500');
      const cls = all.items[0].trueLabel.index;
      const some = await getJson(`/v1/runs/latest/review?level=p90&limit=500&trueClass=${cls}`);
      expect(some.items.length).toBe(all.items.filter((i: Json) => i.trueLabel.index === cls).length);
      const dm = all.items[0].denseModal.index;
      const byDense = await getJson(`/v1/runs/latest/review?level=p90&limit=500&denseModal=${dm}&sort=dense-disagreement`);
      expect(byDense.items.every((i: Json) => i.denseModal.index === dm)).toBe(true);
    });
  });

  describe('live prediction of uploaded images', () => {
    it('an uploaded PNG copy of a dataset image gets exactly the precomputed answer', async () => {
      const d = await getJson(`/v1/runs/latest/images/${pieIndex}`);
      const png = await (await get(`/v1/runs/latest/images/${pieIndex}/image.png`)).arrayBuffer();
      const live = await api.fetch(`/v1/runs/latest/predict?label=${d.trueLabel.index}`, auth({ method: 'POST', body: png, headers: { 'content-type': 'image/png' } }));
      expect(live.status).toBe(200);
      const a = await live.json() as Json;
      expect(a.image.source).toBe('upload');
      expect(a.levels).toEqual(d.levels);
      expect(a.pieLevels).toEqual(d.pieLevels);
      expect(a.trueLabel).toEqual(d.trueLabel);
    });
    it('accepts multipart uploads and JSON pixel arrays', async () => {
      const png = await (await get('/v1/runs/latest/images/5/image.png')).arrayBuffer();
      const form = new FormData();
      form.append('image', new File([new Uint8Array(png)], 'x.png', { type: 'image/png' }));
      const m = await api.fetch('/v1/runs/latest/predict', auth({ method: 'POST', body: form }));
      expect(m.status).toBe(200);
      const d = await getJson('/v1/runs/latest/images/5');
      expect(((await m.json()) as Json).denseModal).toEqual(d.denseModal);
      const pixels = Array.from({ length: 784 }, (_, i) => (i * 37) % 256);
      const j = await api.fetch('/v1/runs/latest/predict', auth({ method: 'POST', body: JSON.stringify({ pixels }), headers: { 'content-type': 'application/json' } }));
      expect(j.status).toBe(200);
      expect(((await j.json()) as Json).levels).toHaveLength(6);
    });
    it('runs on the WebAssembly kernels and answers only the levels asked for (dense always)', async () => {
      const png = await (await get(`/v1/runs/latest/images/${pieIndex}/image.png`)).arrayBuffer();
      const post = (query: string) => api.fetch(`/v1/runs/latest/predict${query}`, auth({ method: 'POST', body: png, headers: { 'content-type': 'image/png' } }));
      const full = await post('');
      expect(full.headers.get('x-pie-kernels')).toBe('wasm');
      const all = (await full.json()) as Json;
      const some = await post('?levels=p90,f16');
      expect(some.status).toBe(200);
      const part = (await some.json()) as Json;
      expect(part.levels.map((l: Json) => l.level)).toEqual(['dense', 'p90', 'f16']);
      expect(part.levels).toEqual(all.levels.filter((l: Json) => ['dense', 'p90', 'f16'].includes(l.level)));
      expect(part.pieLevels).toEqual(all.pieLevels.filter((n: string) => ['p90', 'f16'].includes(n)));
      await expectError(await post('?levels=p90,p80'), 404, 'not_found');
    });
  });

  describe('bad input gets a clear 4xx, never a 500', () => {
    it('unknown run, level, image, route', async () => {
      await expectError(await get('/v1/runs/no-such-run'), 404, 'not_found');
      await expectError(await get('/v1/runs/latest/review?level=p80'), 404, 'not_found');
      await expectError(await get('/v1/runs/latest/images/500'), 404, 'not_found');
      await expectError(await get('/v1/nope'), 404);
    });
    it('malformed parameters', async () => {
      await expectError(await get('/v1/runs/latest/images/abc'), 400, 'bad_input');
      await expectError(await get('/v1/runs/latest/images/-1'), 400);
      await expectError(await get('/v1/runs/latest/review?level=p90&limit=0'), 400);
      await expectError(await get('/v1/runs/latest/review?level=p90&cursor=garbage'), 400, 'bad_cursor');
      await expectError(await get('/v1/runs/latest/images/1/image.png?scale=1000'), 400);
    });
    it('hostile path segments', async () => {
      for (const p of ['/v1/runs/..%2F..%2Fetc%2Fpasswd', '/v1/runs/%2e%2e/images/1', '/v1/runs/a%00b', `/v1/runs/${'x'.repeat(300)}`]) {
        const r = await get(p);
        expect(r.status, p).toBeGreaterThanOrEqual(400);
        expect(r.status, p).toBeLessThan(500);
      }
    });
    it('bad uploads: malformed JSON, wrong type, undecodable, oversized', async () => {
      const post = (body: RequestInit['body'], type: string) => api.fetch('/v1/runs/latest/predict', auth({ method: 'POST', body, headers: { 'content-type': type } }));
      await expectError(await post('{"pixels": [1, 2', 'application/json'), 400);
      await expectError(await post(JSON.stringify({ pixels: [1, 2, 3] }), 'application/json'), 422, 'invalid_pixels');
      await expectError(await post('hello', 'text/plain'), 415, 'unsupported_media_type');
      await expectError(await post(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), 'image/png'), 415, 'unsupported_format');
      await expectError(await post(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72]), 'image/png'), 422, 'undecodable_image');
      await expectError(await post(new Uint8Array(0), 'image/png'), 400, 'empty_body');
      await expectError(await post(new Uint8Array(9 * 1024 * 1024), 'image/png'), 413);
    });
    it('an upload without a declared length (chunked) is answered', async () => {
      const streamed = (bytes: Uint8Array, chunk: number) => {
        let at = 0;
        return new ReadableStream<Uint8Array>({
          pull(c) {
            if (at >= bytes.length) c.close();
            else c.enqueue(bytes.slice(at, at += chunk));
          },
        });
      };
      const post = (body: ReadableStream<Uint8Array>) => api.fetch('/v1/runs/latest/predict?levels=dense', auth({
        method: 'POST', body, headers: { 'content-type': 'image/png' }, duplex: 'half',
      } as RequestInit));
      const png = new Uint8Array(await (await get('/v1/runs/latest/images/3/image.png')).arrayBuffer());
      const r = await post(streamed(png, 100));
      expect(r.status).toBe(200);
      const live = await r.json() as Json;
      expect(live.levels[0].memberPredictions).toEqual((await getJson('/v1/runs/latest/images/3')).levels[0].memberPredictions);
    });
  });

  describe('OpenAPI', () => {
    it('documents every route, generated from the route definitions', async () => {
      const r = await api.fetch('/openapi.json');
      expect(r.status).toBe(200);
      const doc = await r.json() as Json;
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
        '/health', '/v1/runs/{run}', '/v1/runs/{run}/images/{index}', '/v1/runs/{run}/predict', '/v1/runs/{run}/review', '/v1/runs/{run}/classes',
      ]));
      expect((await api.fetch('/docs')).status).toBe(200);
    });
    it('/docs loads swagger-ui from the API itself, under a Content-Security-Policy', async () => {
      const page = await api.fetch('/docs');
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await page.text();
      expect(html).not.toMatch(/https?:\/\//);
      for (const src of html.match(/(?<=(src|href)=")docs\/[^"]+/g) ?? []) {
        const r = await api.fetch(`/${src}`);
        expect(r.status, src).toBe(200);
        expect(r.headers.get('content-type'), src).toMatch(/^text\/(javascript|css)/);
        expect((await r.text()).length, src).toBeGreaterThan(10);
      }
      expect(await (await api.fetch('/docs/swagger-ui-bundle.js')).text()).toContain('SwaggerUIBundle');
    });
  });

  describe('strict parsing', () => {
    it('links in answers are root-relative, never built from the Host header', async () => {
      const a = await getJson(`/v1/runs/${overview.runId}/images/3`);
      expect(a.image.png).toBe(`/v1/runs/${overview.runId}/images/3/image.png`);
      const q = await getJson('/v1/runs/latest/review?level=p90&limit=1');
      expect(q.items[0].detail).toMatch(/^\/v1\/runs\/[^/]+\/images\/\d+$/);
    });
    it('a bearer header with a tab or two spaces is a 400, not trimmed', async () => {
      for (const header of [`Bearer\t${api.key}`, `Bearer  ${api.key}`, `Bearer ${api.key} extra`]) {
        await expectError(await api.fetch('/v1/runs/latest', { headers: { authorization: header } }), 400, 'malformed_authorization');
      }
    });
    it('indexes in hex, with a sign, an exponent or leading zeros are a 400', async () => {
      for (const i of ['0x10', '+5', '1e1', '05', '5.0', '%205']) {
        const body = await expectError(await get(`/v1/runs/latest/images/${i}`), 400, 'bad_input');
        expect(body.error.message, i).toMatch(/decimal integer/);
      }
      await expectError(await get('/v1/runs/latest/review?level=p90&limit=+5'), 400, 'bad_input');
      await expectError(await get('/v1/runs/latest/images/1/image.png?scale=0x2'), 400, 'bad_input');
    });
    it('a multipart upload with two image files is a 400', async () => {
      const png = new Uint8Array(await (await get('/v1/runs/latest/images/5/image.png')).arrayBuffer());
      const form = new FormData();
      form.append('image', new File([png], 'a.png', { type: 'image/png' }));
      form.append('image', new File([png], 'b.png', { type: 'image/png' }));
      await expectError(await api.fetch('/v1/runs/latest/predict', auth({ method: 'POST', body: form })), 400, 'several_images');
    });
  });
}
