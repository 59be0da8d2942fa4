/**
 * The human study end to end: tasks from the API, an export shaped like Label Studio's
 * (Export → JSON, label_studio/data_export/serializers.py ExportDataSerializer: tasks with
 * `annotations[].result[]` of `choices` items) with planted answers, tallied by the API route and
 * by `pie study --export`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { optionsFromEnv } from '../../api/context.ts';
import { parseLabelConfig } from '../../api/label-studio/config.ts';
import { RunRepository, type LoadedRun } from '../../api/runs.ts';
import { mulberry32 } from '../../lib/random.ts';
import { FsStore } from '../../node/store-fs.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const repo = new RunRepository(new FsStore(inject('tinyRunDir')));
const app = createApp(repo, { ...optionsFromEnv({}), publicReads: true });
let run: LoadedRun;
let plan: Json;

beforeAll(async () => {
  run = await repo.get('latest');
  const r = await app.request('http://pie.test/v1/runs/latest/study/tasks?level=p90&maxPies=40&seed=3');
  expect(r.status).toBe(200);
  plan = await r.json() as Json;
});

const isPie = (task: Json) => run.isPie[2 * run.N + Number(task.data.pie_study.split('/')[2])] === 1;
const trueName = (task: Json) => run.manifest.dataset.classNames[run.labels[Number(task.data.pie_study.split('/')[2])]];

/** Label Studio's JSON export of the imported tasks, each annotated once as `answer` says. */
function exportOf(tasks: Json[], answer: (task: Json, k: number) => { categories: string[]; className: string }) {
  return tasks.map((t, k) => {
    const a = answer(t, k);
    return {
      id: 1000 + k, data: t.data, meta: {}, created_at: '2026-12-01T10:00:00.000000Z', updated_at: '2026-12-01T10:05:00.000000Z',
      inner_id: k + 1, total_annotations: 1, cancelled_annotations: 0, total_predictions: 1, comment_count: 0, unresolved_comment_count: 0,
      last_comment_updated_at: null, project: 3, updated_by: 1, file_upload: null, comment_authors: [],
      annotations: [{
        id: 5000 + k, completed_by: 1 + (k % 3), was_cancelled: false, ground_truth: false, lead_time: 9.4,
        created_at: '2026-12-01T10:05:00.000000Z', updated_at: '2026-12-01T10:05:00.000000Z', task: 1000 + k, project: 3,
        prediction: {}, result_count: 2, unique_id: `u${k}`, import_id: null, last_action: null, parent_prediction: null, parent_annotation: null, last_created_by: null,
        result: [
          { id: `c${k}`, type: 'choices', value: { choices: [a.className] }, origin: 'manual', to_name: 'image', from_name: 'label' },
          { id: `g${k}`, type: 'choices', value: { choices: a.categories.length ? a.categories : ['None of these'] }, origin: 'manual', to_name: 'image', from_name: 'categories' },
        ],
      }],
      drafts: [], predictions: [],
    };
  });
}

/** Planted: "incorrect ground truth" (and a different class) on 40 % of PIEs and 5 % of non-PIEs. */
function plantedExport() {
  const seen = { pie: 0, non: 0 };
  return exportOf(plan.tasks, (t) => {
    const pie = isPie(t);
    const i = pie ? seen.pie++ : seen.non++;
    const planted = pie ? i < 0.4 * plan.pies : i < 0.05 * plan.nonPies;
    const other = run.manifest.dataset.classNames.find((n) => n !== trueName(t))!;
    return {
      categories: [...(planted ? ['Incorrect or inadequate ground truth'] : []), ...(i % 4 === 0 ? ['Lower image quality'] : [])],
      className: planted ? other : trueName(t),
    };
  });
}

describe('the human study', () => {
  it('tasks: every sampled PIE has a non-PIE partner, and nothing in a task says which it is', () => {
    expect(plan).toMatchObject({ level: 'p90', pies: 40, nonPies: 40 });
    expect(plan.tasks).toHaveLength(80);
    expect(plan.tasks.filter(isPie)).toHaveLength(40);
    for (const t of plan.tasks) expect(Object.keys(t.data).sort()).toEqual(['image', 'pie_study']);
    expect(plan.tasks[0].data.image).toMatch(/^http:\/\/pie\.test\/v1\/runs\/.+\/images\/\d+\/image\.png$/);
    // The ML backend reads the study config: the class control comes first.
    const config = parseLabelConfig(plan.labelConfig);
    expect(config.fromName).toBe('label');
    expect(config.choices.map((c) => c.value)).toEqual(run.manifest.dataset.classNames);
  });

  it('a planted export: incorrect ground truth over-indexes on PIEs, significantly; the rest does not', async () => {
    const r = await app.request('/v1/runs/latest/study', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(plantedExport()) });
    expect(r.status).toBe(200);
    const t = await r.json() as Json;
    expect(t).toMatchObject({ level: 'p90', pies: 40, nonPies: 40, annotations: 80, skippedTasks: 0 });
    const igt = t.categories.find((c: Json) => c.id === 'incorrect-ground-truth');
    expect(igt.pie).toMatchObject({ count: 16, n: 40, share: 0.4 });
    expect(igt.nonPie).toMatchObject({ count: 2, n: 40, share: 0.05 });
    expect(igt).toMatchObject({ significant: true, direction: 'pie' });
    expect(igt.p).toBeLessThan(0.001);
    const lq = t.categories.find((c: Json) => c.id === 'low-quality');
    expect(lq).toMatchObject({ significant: false, difference: 0 });
    expect(lq.p).toBeCloseTo(1, 9);
    expect(t.disagreement).toMatchObject({ significant: true, direction: 'pie', pie: { count: 16 }, nonPie: { count: 2 } });
  });

  it('the null case: the same answers for PIEs and non-PIEs, nothing significant', async () => {
    const rand = mulberry32(5);
    const exp = exportOf(plan.tasks, (t) => ({ categories: rand() < 0.25 ? ['Atypical exemplar'] : [], className: trueName(t) }));
    const t = await (await app.request('/v1/runs/latest/study', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(exp) })).json() as Json;
    expect(t.categories.filter((c: Json) => c.significant)).toEqual([]);
    expect(t.disagreement).toMatchObject({ significant: false, pie: { count: 0 }, nonPie: { count: 0 } });
  });

  it('refuses exports that are not of a study, or of another run, with a 400 naming why', async () => {
    const post = (body: unknown) => app.request('/v1/runs/latest/study', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let r = await post([{ id: 1, data: { image: '/data/upload/1/a.png' }, annotations: [] }]);
    expect(r.status).toBe(400);
    expect((await r.json() as Json).error).toMatchObject({ code: 'bad_study_export', message: expect.stringMatching(/pie_study/) });
    r = await post([{ id: 1, data: { image: 'x', pie_study: 'another-run/p90/3' }, annotations: [] }]);
    expect((await r.json() as Json).error.message).toMatch(/another-run/);
  });

  it('`pie study --export` prints the table', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pie-study-'));
    const file = join(dir, 'export.json');
    writeFileSync(file, JSON.stringify(plantedExport()));
    const root = join(import.meta.dirname, '../..');
    const r = spawnSync(process.execPath, [join(root, 'bin/pie.js'), 'study', '--export', file, '--runs-dir', inject('tinyRunDir')], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/40 PIEs, 40 non-PIEs, 80 annotations/);
    expect(r.stdout).toMatch(/Incorrect or inadequate ground truth\s+40\.0 % \[[\d.]+, [\d.]+\]\s+5\.0 % \[[\d.]+, [\d.]+\]\s+\+35\.0 pt\s+[\d.e-]+\s+PIEs/);
    console.log(r.stdout);
  });
});
