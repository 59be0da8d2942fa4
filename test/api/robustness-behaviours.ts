/**
 * What the robustness and subgroup routes must do, on Node and on Workers alike, against a tiny
 * run made with `--corruptions brightness,rotate --severities 1,3` and the planted attributes of
 * test/robust-run.ts (group=a: every 10th image); `getPlain` reaches a run made without them.
 */
import { expect, it } from 'vitest';
import { corrupt } from '../../lib/corrupt/index.ts';
import { decodeImage } from '../../lib/image/index.ts';
import { parseManifest } from '../../lib/manifest.ts';
import { corruptionSeed } from '../../lib/robustness-run.ts';

export function robustnessBehaviours(ctx: () => { get: (path: string) => Promise<Response>; getPlain: (path: string) => Promise<Response>; file: (path: string) => Uint8Array; runId: string }) {
  const get = (path: string) => ctx().get(path);
  const file = (path: string) => ctx().file(path);
  const text = (path: string) => new TextDecoder().decode(file(path));
  it('serves the robustness analysis the run stored', async () => {
    const r = await get(`/v1/runs/${ctx().runId}/robustness`);
    expect(r.status).toBe(200);
    const body = await r.json() as { runId: string; corruptions: { key: string }[]; levels: { name: string; mCE: number }[] };
    expect(body.runId).toBe(ctx().runId);
    expect(body.corruptions.map((c) => c.key)).toEqual(['brightness-1', 'brightness-3', 'rotate-1', 'rotate-3']);
    expect(body).toEqual({ runId: ctx().runId, ...JSON.parse(text('robustness/analysis.json')) });
    expect(body.levels[0]).toMatchObject({ name: 'dense', mCE: 1 });
  });

  it('serves the subgroup analysis with the planted subgroup', async () => {
    const r = await get(`/v1/runs/${ctx().runId}/subgroups`);
    expect(r.status).toBe(200);
    const body = await r.json() as { subgroups: { key: string; size: number }[]; levels: { rows: { key: string }[] }[] };
    expect(body.subgroups.find((g) => g.key === 'group=a')!.size).toBe(50);
    expect(body.levels[2].rows.map((x) => x.key)).toContain('group=a&side=left');
  });

  it('answers 404 on a run made without corruptions or attributes, saying how to make them', async () => {
    const r = await ctx().getPlain('/v1/runs/latest/robustness');
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/--corruptions/);
    expect((await ctx().getPlain('/v1/runs/latest/subgroups')).status).toBe(404);
  });

  it("recomputes a corrupted image from the stored one with the run's per-image seed", async () => {
    const m = parseManifest(text('manifest.json'));
    const i = 7;
    const r = await get(`/v1/runs/${ctx().runId}/images/${i}/image.png?corruption=rotate-3`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/png');
    const png = decodeImage(new Uint8Array(await r.arrayBuffer()));
    const [h, w] = m.dataset.inputShape;
    const clean = file('eval/images.bin').subarray(i * h * w, (i + 1) * h * w);
    const expected = corrupt({ data: clean, height: h, width: w, channels: 1 }, 'rotate', 3, corruptionSeed(m.robustness!.seed, 'rotate-3', i)).data;
    expect(Array.from(png.gray)).toEqual(Array.from(expected));
    expect(Array.from(png.gray)).not.toEqual(Array.from(clean));
    // Corruptions the run did not evaluate can still be looked at.
    expect((await get(`/v1/runs/${ctx().runId}/images/${i}/image.png?corruption=contrast-5&scale=2`)).status).toBe(200);
  });

  it('refuses unknown corruption names and severities with 400 naming the valid ones', async () => {
    for (const bad of ['motion_blurr-3', 'rotate-9', 'rotate']) {
      const r = await get(`/v1/runs/${ctx().runId}/images/0/image.png?corruption=${bad}`);
      expect(r.status, bad).toBe(400);
      expect(((await r.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'bad_corruption', message: expect.stringMatching(/valid: .*rotate-1…5/) });
    }
  });

  it("answers an image's votes under a corruption from the stored corrupted predictions", async () => {
    const m = parseManifest(text('manifest.json'));
    const N = m.dataset.testSize, K = m.K;
    const preds = file('robustness/brightness-3.bin');
    // An image whose votes differ between clean and corrupted, to tell the two apart.
    const clean = file('predictions.bin');
    let i = 0;
    while ([...Array(m.levels.length * K).keys()].every((j) => clean[j * N + i] === preds[j * N + i])) i++;
    const r = await get(`/v1/runs/${ctx().runId}/images/${i}?corruption=brightness-3`);
    expect(r.status).toBe(200);
    const body = await r.json() as { image: { corruption: string; png: string }; levels: { memberPredictions: number[] }[] };
    expect(body.image.corruption).toBe('brightness-3');
    expect(body.image.png).toMatch(/image\.png\?corruption=brightness-3$/);
    body.levels.forEach((l, t) => expect(l.memberPredictions).toEqual([...Array(K).keys()].map((k) => preds[(t * K + k) * N + i])));
    // Asked again (answers are kept once built): the same answer, and the clean one stays clean.
    expect(await (await get(`/v1/runs/${ctx().runId}/images/${i}?corruption=brightness-3`)).json()).toEqual(body);
    const plainAnswer = await (await get(`/v1/runs/${ctx().runId}/images/${i}`)).json() as { image: { corruption?: string }; levels: { memberPredictions: number[] }[] };
    expect(plainAnswer.image.corruption).toBeUndefined();
    plainAnswer.levels.forEach((l, t) => expect(l.memberPredictions).toEqual([...Array(K).keys()].map((k) => clean[(t * K + k) * N + i])));
    for (let k = 0; k < 2; k++) {
      const unevaluated = await get(`/v1/runs/${ctx().runId}/images/${i}?corruption=contrast-3`);
      expect(unevaluated.status).toBe(400);
      expect(((await unevaluated.json()) as { error: { message: string } }).error.message).toMatch(/it has brightness-1, brightness-3, rotate-1, rotate-3/);
    }
  });

  it('filters the review queue by subgroup, and refuses unknown subgroups naming the attributes', async () => {
    const all = await (await get(`/v1/runs/${ctx().runId}/review?level=p90&limit=500`)).json() as { total: number; items: { index: number }[] };
    const r = await get(`/v1/runs/${ctx().runId}/review?level=p90&limit=500&subgroup=${encodeURIComponent('group=a')}`);
    expect(r.status).toBe(200);
    const sub = await r.json() as { total: number; items: { index: number }[] };
    expect(sub.items.map((x) => x.index)).toEqual(all.items.map((x) => x.index).filter((i) => i % 10 === 0));
    expect(sub.total).toBeGreaterThan(0);
    const pair = await (await get(`/v1/runs/${ctx().runId}/review?level=p90&limit=500&subgroup=${encodeURIComponent('group=a&side=left')}`)).json() as { items: { index: number }[] };
    expect(pair.items.every((x) => x.index % 10 === 0 && x.index % 3 === 0)).toBe(true);
    const bad = await get(`/v1/runs/${ctx().runId}/review?level=p90&subgroup=group=c`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/its attributes: group=a\|b, side=left\|right/);
    expect((await ctx().getPlain('/v1/runs/latest/review?level=p90&subgroup=group=a')).status).toBe(400);
  });

  it('documents the new routes in the OpenAPI document', async () => {
    const doc = await (await get('/openapi.json')).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/runs/{run}/robustness', '/v1/runs/{run}/subgroups']));
  });
}
