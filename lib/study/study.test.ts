import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.ts';
import { NONE_OF_THESE, sampleStudy, STUDY_CATEGORIES, studyLabelConfig, studyTasks } from './design.ts';
import { parseStudyExport, studyRecords } from './export.ts';
import { fisherExact, wilsonShare } from './stats.ts';
import { formatStudyTable, tallyStudy, type StudyRecord } from './tally.ts';

describe('statistics', () => {
  it("Fisher's exact test: the lady tasting tea (3 of 4 right) is p = 34/70, two-sided", () => {
    expect(fisherExact(3, 1, 1, 3)).toBeCloseTo(34 / 70, 10);
    expect(fisherExact(4, 0, 0, 4)).toBeCloseTo(2 / 70, 10);
    expect(fisherExact(2, 2, 2, 2)).toBeCloseTo(1, 10);
    expect(fisherExact(0, 0, 0, 0)).toBe(1);
  });
  it('Wilson interval: 0 of 10 reaches z²/(n+z²); it stays within 0…1 and contains the share', () => {
    const s = wilsonShare(0, 10);
    expect(s.ci![0]).toBeCloseTo(0, 12);
    expect(s.ci![1]).toBeCloseTo(1.959964 ** 2 / (10 + 1.959964 ** 2), 5);
    const h = wilsonShare(38, 40);
    expect(h.ci![0]).toBeLessThan(0.95);
    expect(h.ci![1]).toBeLessThanOrEqual(1);
    expect(h.ci![1]).toBeGreaterThan(0.95);
    expect(wilsonShare(0, 0).share).toBeNull();
  });
});

/** n PIEs and n non-PIEs, one annotator each; `plant(isPie, i)` says what that annotator marked. */
function planted(n: number, plant: (isPie: boolean, i: number) => { categories: string[]; wrongClass: boolean }): StudyRecord[] {
  const out: StudyRecord[] = [];
  for (const isPie of [true, false]) {
    for (let i = 0; i < n; i++) {
      const { categories, wrongClass } = plant(isPie, i);
      const trueClass = i % 10;
      out.push({ isPie, trueClass, annotations: [{ categories: categories.length ? categories : [NONE_OF_THESE], classIndex: wrongClass ? (trueClass + 1) % 10 : trueClass }] });
    }
  }
  return out;
}

describe('tallyStudy', () => {
  it('incorrect ground truth marked on 40 % of PIEs and 5 % of non-PIEs comes out significant, towards PIEs', () => {
    const rand = mulberry32(7);
    const records = planted(100, (isPie, i) => ({
      categories: [
        ...(i < (isPie ? 40 : 5) ? ['incorrect-ground-truth'] : []),
        // Same rate in both groups: no effect.
        ...(i % 5 === 0 ? ['low-quality'] : []),
        ...(rand() < 0.15 ? ['multiple-objects'] : []),
      ],
      wrongClass: i < (isPie ? 40 : 5),
    }));
    const t = tallyStudy(records);
    expect([t.pies, t.nonPies, t.annotations]).toEqual([100, 100, 200]);
    const igt = t.categories.find((c) => c.id === 'incorrect-ground-truth')!;
    expect(igt.pie.share).toBeCloseTo(0.4);
    expect(igt.nonPie.share).toBeCloseTo(0.05);
    expect(igt.p).toBeLessThan(1e-6);
    expect(igt).toMatchObject({ significant: true, direction: 'pie' });
    expect(igt.pie.ci![0]).toBeGreaterThan(igt.nonPie.ci![1]);
    const lq = t.categories.find((c) => c.id === 'low-quality')!;
    expect(lq).toMatchObject({ p: 1, significant: false, direction: 'none' });
    expect(t.disagreement).toMatchObject({ significant: true, direction: 'pie' });
    expect(t.disagreement.pie.share).toBeCloseTo(0.4);
    expect(t.categories.map((c) => c.id)).toEqual([...STUDY_CATEGORIES.map((c) => c.id), NONE_OF_THESE]);
    const text = formatStudyTable(t);
    expect(text).toMatch(/Incorrect or inadequate ground truth\s+40\.0 % \[\d+\.\d, \d+\.\d\]\s+5\.0 % .*\+35\.0 pt .*PIEs/);
  });

  it('the null case: the same rates among PIEs and non-PIEs are not significant', () => {
    const rand = mulberry32(11);
    const records = planted(60, () => ({ categories: rand() < 0.2 ? ['incorrect-ground-truth'] : [], wrongClass: rand() < 0.1 }));
    const t = tallyStudy(records);
    expect(t.categories.filter((c) => c.significant)).toEqual([]);
    expect(t.disagreement.significant).toBe(false);
  });

  it('an image counts once: a category marked by at least half of its annotators', () => {
    const t = tallyStudy([
      { isPie: true, trueClass: 0, annotations: [{ categories: ['atypical'], classIndex: 0 }, { categories: [NONE_OF_THESE], classIndex: 0 }] },
      { isPie: true, trueClass: 0, annotations: [{ categories: ['atypical'], classIndex: 1 }, { categories: [NONE_OF_THESE], classIndex: 2 }, { categories: [NONE_OF_THESE], classIndex: 2 }] },
      { isPie: false, trueClass: 0, annotations: [] },
    ]);
    expect(t.pies).toBe(2);
    expect(t.nonPies).toBe(0);
    expect(t.categories.find((c) => c.id === 'atypical')!.pie.count).toBe(1);
    expect(t.disagreement.pie.count).toBe(1);
  });
});

describe('study design', () => {
  it('samples every PIE and as many random non-PIEs, seeded, interleaved, without a PIE flag in the tasks', () => {
    const isPie = Uint8Array.from({ length: 200 }, (_, i) => (i % 10 === 3 ? 1 : 0));
    const a = sampleStudy(isPie, { seed: 1, level: 'p90' });
    expect([a.pies, a.nonPies, a.indices.length]).toEqual([20, 20, 40]);
    expect(a.indices.filter((i) => isPie[i]).length).toBe(20);
    expect(new Set(a.indices).size).toBe(40);
    expect(sampleStudy(isPie, { seed: 1, level: 'p90' })).toEqual(a);
    expect(sampleStudy(isPie, { seed: 2, level: 'p90' }).indices).not.toEqual(a.indices);
    // Not PIEs first: the first half holds some of each.
    expect(a.indices.slice(0, 20).filter((i) => isPie[i]).length).toBeGreaterThan(2);
    expect(sampleStudy(isPie, { seed: 1, level: 'p90', maxPies: 5 }).indices).toHaveLength(10);
    const tasks = studyTasks(a, { run: 'r1', level: 'p90' }, (i) => `https://pie.example/v1/runs/r1/images/${i}/image.png`);
    expect(Object.keys(tasks[0].data).sort()).toEqual(['image', 'pie_study']);
    expect(JSON.stringify(tasks)).not.toMatch(/pie"?\s*:\s*(true|false)|isPie/i);
  });

  it('the labeling config has the class choices first, then the categories as a multi-select with "None of these"', () => {
    const xml = studyLabelConfig(['T-shirt/top', 'A & B']);
    expect(xml.indexOf('name="label"')).toBeLessThan(xml.indexOf('name="categories"'));
    expect(xml).toMatch(/<Choices name="categories" toName="image" choice="multiple"/);
    expect(xml).toContain('<Choice value="A &amp; B"/>');
    expect(xml).toContain('<Choice value="Incorrect or inadequate ground truth"/>');
    expect(xml).toContain('<Choice value="None of these"/>');
  });

  it('reads a Label Studio JSON export: cancelled annotations and other tasks are left out, unknown categories refused', () => {
    const result = (cls: string, cats: string[]) => [
      { id: 'a1', from_name: 'label', to_name: 'image', type: 'choices', value: { choices: [cls] }, origin: 'manual' },
      { id: 'a2', from_name: 'categories', to_name: 'image', type: 'choices', value: { choices: cats }, origin: 'manual' },
    ];
    const exp = [
      { id: 1, data: { image: '/v1/runs/r1/images/4/image.png', pie_study: 'r1/p90/4' }, annotations: [
        { id: 10, completed_by: 1, result: result('class 2', ['Atypical exemplar', 'Lower image quality']), was_cancelled: false, ground_truth: false },
        { id: 11, completed_by: 2, result: [], was_cancelled: true },
      ], predictions: [] },
      { id: 2, data: { image: '/data/upload/1/x.png' }, annotations: [] },
    ];
    const { tasks, skipped } = parseStudyExport(exp);
    expect(skipped).toBe(1);
    expect(tasks).toEqual([{ id: 1, ref: { run: 'r1', level: 'p90', index: 4 }, annotations: [{ categories: ['atypical', 'low-quality'], className: 'class 2' }] }]);
    const records = studyRecords(tasks, { isPie: (l, i) => l === 'p90' && i === 4, trueClass: () => 3, classIndex: (n) => Number(n.split(' ')[1]) });
    expect(records).toEqual([{ isPie: true, trueClass: 3, annotations: [{ categories: ['atypical', 'low-quality'], classIndex: 2 }] }]);
    expect(() => parseStudyExport([{ ...exp[0], annotations: [{ result: result('class 2', ['Blurry']) }] }])).toThrow(/'Blurry' is not one of the study's categories/);
    expect(() => parseStudyExport([exp[1]])).toThrow(/no study tasks/);
    expect(() => parseStudyExport({})).toThrow(/array of tasks/);
  });
});
