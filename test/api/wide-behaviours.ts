/**
 * A 1000-class run (2-byte class indices) served end to end, checked against its own files
 * decoded here by hand — little-endian uint16 predictions and labels, modal labels by counting
 * votes — on both entry points: Node (test/api/wide-run.test.ts) and workerd with R2
 * (test/workers/wide-run.test.ts). Only web-standard APIs: this file runs in both runtimes.
 */
import { decode as decodePng } from 'fast-png';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { WIDE_RUN } from '../wide-run.ts';
import type { ApiClient } from './behaviours.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The run's files as the test reads them, independent of lib/. */
export function wideRunReference() {
  const files = inject('wideRunFiles');
  const bytes = (rel: string) => Uint8Array.from(atob(files[`${WIDE_RUN.runId}/${rel}`]), (ch) => ch.charCodeAt(0));
  const u16 = (b: Uint8Array) => Array.from({ length: b.length / 2 }, (_, i) => b[2 * i] | (b[2 * i + 1] << 8));
  const manifest = JSON.parse(new TextDecoder().decode(bytes('manifest.json'))) as Json;
  const predictions = u16(bytes('predictions.bin'));
  const labels = u16(bytes('eval/labels.bin'));
  const images = bytes('eval/images.bin');
  const { K, images: N } = WIDE_RUN;
  const L = manifest.levels.length as number;
  const members = (t: number, i: number) => Array.from({ length: K }, (_, k) => predictions[(t * K + k) * N + i]);
  // The released code's rule: the most votes, ties to the largest class index.
  const modal = (t: number, i: number) => {
    const counts = new Map<number, number>();
    for (const c of members(t, i)) counts.set(c, (counts.get(c) ?? 0) + 1);
    let best = -1, n = 0;
    for (const [c, v] of counts) if (v > n || (v === n && c > best)) { best = c; n = v; }
    return best;
  };
  const pies = (t: number) => Array.from({ length: N }, (_, i) => i).filter((i) => modal(t, i) !== modal(0, i));
  return { manifest, predictions, labels, images, members, modal, pies, L, N, K };
}

export function wideRunBehaviours(getClient: () => ApiClient) {
  let api: ApiClient;
  const run = `/v1/runs/${WIDE_RUN.runId}`;
  const get = (path: string) => api.fetch(path, { headers: { authorization: `Bearer ${api.key}` } });
  const getJson = async (path: string): Promise<Json> => {
    const r = await get(path);
    expect(r.status, `${path}: ${r.status} ${r.status === 200 ? '' : await r.clone().text()}`).toBe(200);
    return r.json() as Promise<Json>;
  };
  const ref = wideRunReference();
  const p90 = ref.manifest.levels.findIndex((l: Json) => l.name === 'p90');
  const p90Pies = ref.pies(p90);
  // Images whose true class needs the second byte, and a PIE among them.
  const pieHigh = p90Pies.find((i) => ref.labels[i] > 255)!;

  beforeAll(() => { api = getClient(); });

  it('the planted structure reaches past class 255', () => {
    expect(ref.manifest.classBytes).toBe(2);
    expect(Math.max(...ref.labels)).toBe(999);
    expect(pieHigh).toBeDefined();
  });

  it('overview and class tests cover all 1000 classes', async () => {
    const ov = await getJson(run);
    expect(ov.dataset.numClasses).toBe(1000);
    expect(ov.dataset.classNames).toHaveLength(1000);
    expect(ov.levels.find((l: Json) => l.name === 'p90').pieCount).toBe(p90Pies.length);
    const classes = await getJson(`${run}/classes?level=p90`);
    expect(classes.levels[0].classes).toHaveLength(1000);
    expect(classes.levels[0].classes[999].name).toBe(ref.manifest.dataset.classNames[999]);
  });

  it('a dataset image: member predictions, votes, modal labels and PIE status as the files say', async () => {
    for (const i of [pieHigh, 0, ref.N - 1]) {
      const a = await getJson(`${run}/images/${i}`);
      expect(a.trueLabel.index).toBe(ref.labels[i]);
      expect(a.denseModal.index).toBe(ref.modal(0, i));
      a.levels.forEach((l: Json, t: number) => {
        expect(l.memberPredictions).toEqual(ref.members(t, i));
        expect(l.modal.index).toBe(ref.modal(t, i));
        // Sparse: exactly the classes the members voted for, with their counts (not 1000 entries).
        const members = ref.members(t, i);
        const want = Object.fromEntries([...new Set(members)].sort((x, y) => x - y).map((c) => [String(c), members.filter((x) => x === c).length]));
        expect(l.voteCounts).toEqual(want);
        if (t > 0) {
          const dense = ref.members(0, i);
          const all = new Set([...members, ...dense]);
          const taxi = [...all].reduce((d, c) => d + Math.abs(members.filter((x) => x === c).length - dense.filter((x) => x === c).length), 0) / ref.K;
          expect(l.taxicab).toBeCloseTo(taxi, 12);
        }
        expect(l.isPie).toBe(t > 0 && ref.modal(t, i) !== ref.modal(0, i));
      });
    }
    expect((await getJson(`${run}/images/${pieHigh}`)).pieLevels).toContain('p90');
  });

  it('image.png is the stored image, read on its own', async () => {
    const i = pieHigh;
    const r = await get(`${run}/images/${i}/image.png`);
    expect(r.status).toBe(200);
    const png = decodePng(new Uint8Array(await r.arrayBuffer()));
    const s = WIDE_RUN.imageSize;
    expect([png.width, png.height]).toEqual([s, s]);
    expect(Array.from(png.data)).toEqual(Array.from(ref.images.subarray(i * s * s, (i + 1) * s * s)));
  });

  it('the review queue lists every PIE and filters by a class above 255', async () => {
    const all = await getJson(`${run}/review?level=p90&limit=500&sort=index`);
    expect(all.total).toBe(p90Pies.length);
    expect(all.items.map((x: Json) => x.index)).toEqual(p90Pies.slice(0, 500));
    const c = ref.labels[pieHigh];
    const page = await getJson(`${run}/review?level=p90&trueClass=${c}&limit=500`);
    expect(page.items.map((x: Json) => x.index).sort((a: number, b: number) => a - b)).toEqual(p90Pies.filter((i) => ref.labels[i] === c));
    expect(page.items.every((x: Json) => x.trueLabel.index === c && x.trueLabel.name === ref.manifest.dataset.classNames[c])).toBe(true);
    const level = await getJson(`${run}/review?level=p90&levelModal=${ref.modal(p90, pieHigh)}&limit=500`);
    expect(level.items.map((x: Json) => x.index)).toContain(pieHigh);
  });

  it('a class outside the run is a clear 400', async () => {
    const r = await get(`${run}/review?level=p90&trueClass=1000`);
    expect(r.status).toBe(400);
    expect((await r.json() as Json).error.message).toMatch(/trueClass 1000 is not a class of run wide-1000 \(classes 0…999\)/);
  });
}
