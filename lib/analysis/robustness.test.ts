import { describe, expect, it } from 'vitest';
import { analyzeRobustness, type CorruptedPredictions } from './robustness.ts';
import { balancedLabels, mulberry32, noisyPredictions, setVotes } from './testing.ts';

describe('analyzeRobustness on planted fragility', () => {
  // 3 levels × K = 10 members, 1000 images, 10 classes. Clean: every member ~85 %.
  // 'fog-3': dense and 'null' fall to ~70 %, 'fragile' to ~45 %. 'noise-1': nobody moves.
  const K = 10, C = 10, N = 1000;
  const rand = mulberry32(20240);
  const labels = balancedLabels(N, C);
  const skill = Array.from({ length: 3 * K }, () => 0.85 + 0.03 * (rand() - 0.5));
  const clean = noisyPredictions(rand, labels, 3, K, C, (t, k) => skill[t * K + k]);
  const corrupted: CorruptedPredictions[] = [
    { name: 'fog', severity: 3, predictions: noisyPredictions(rand, labels, 3, K, C, (t, k) => skill[t * K + k] - (t === 2 ? 0.4 : 0.15)) },
    { name: 'noise', severity: 1, predictions: noisyPredictions(rand, labels, 3, K, C, (t, k) => skill[t * K + k]) },
    { name: 'fog', severity: 5, predictions: noisyPredictions(rand, labels, 3, K, C, (t, k) => skill[t * K + k] - (t === 2 ? 0.6 : 0.3)) },
  ];
  const { summary, modal } = analyzeRobustness({ clean, corrupted, labels, numClasses: C, levelNames: ['dense', 'null', 'fragile'], K });

  it('measures accuracy and relative accuracy per level and corrupted set', () => {
    expect(summary.corruptions.map((c) => c.key)).toEqual(['fog-3', 'noise-1', 'fog-5']);
    const [dense, , fragile] = summary.levels;
    expect(dense.cells[0].accuracy.mean).toBeCloseTo(0.70, 1);
    expect(fragile.cells[0].accuracy.mean).toBeCloseTo(0.45, 1);
    expect(fragile.cells[0].relative!.mean).toBeCloseTo(0.45 / 0.85, 1);
    expect(fragile.cells[0].accuracy.sd).toBeGreaterThan(0);
    expect(fragile.cleanAccuracy.mean).toBeCloseTo(0.85, 1);
    expect(modal).toHaveLength(3);
    expect(modal[0]).toBeInstanceOf(Uint8Array);
  });

  it('flags the fragile level as significantly more fragile than dense, and not the null level', () => {
    const [dense, nul, fragile] = summary.levels;
    expect(fragile.cells[0]).toMatchObject({ moreFragile: true, moreFragileAdjusted: true });
    expect(fragile.cells[0].relativeDiff!).toBeLessThan(-0.2);
    expect(fragile.cells[0].t!).toBeLessThan(-10);
    expect(fragile.cells[1].moreFragileAdjusted).toBe(false);
    expect(nul.moreFragileAdjusted).toBe(0);
    for (const c of dense.cells) expect(c).toMatchObject({ t: 0, p: 1, relativeDiff: 0, moreFragile: false, errorRatio: 1 });
  });

  it("gives ImageNet-C's CE with dense as the baseline: summed over severities, averaged into mCE", () => {
    const [dense, nul, fragile] = summary.levels;
    expect(dense.mCE).toBe(1);
    expect(dense.corruptionErrors.map((e) => e.corruption)).toEqual(['fog', 'noise']);
    const fog = fragile.corruptionErrors[0];
    expect(fog.severities).toEqual([3, 5]);
    const err = (lvl: typeof fragile, j: number) => 1 - lvl.cells[j].accuracy.mean;
    expect(fog.ce!).toBeCloseTo((err(fragile, 0) + err(fragile, 2)) / (err(dense, 0) + err(dense, 2)), 12);
    expect(fog.ce!).toBeGreaterThan(1.5);
    expect(fragile.mCE!).toBeCloseTo((fog.ce! + fragile.corruptionErrors[1].ce!) / 2, 12);
    expect(fragile.cells[0].errorRatio!).toBeGreaterThan(1.5);
    expect(Math.abs(nul.mCE! - 1)).toBeLessThan(0.1);
    expect(fog.relativeCe!).toBeGreaterThan(1.5);
  });

  it('counts images whose level majority moves under the corruption where the dense majority does not', () => {
    const [dense, nul, fragile] = summary.levels;
    const s = fragile.cells[0].survival;
    expect(s.kept + s.lost).toBe(s.denseSurvived);
    expect(dense.cells[0].survival).toMatchObject({ lost: 0, share: 1 });
    expect(s.share!).toBeLessThan(nul.cells[0].survival.share! - 0.05);
    // Recount one cell by hand from the modal labels the analysis returns.
    expect(s.denseSurvived).toBeGreaterThan(0);
  });

  it('survives a JSON round trip unchanged', () => {
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
  });
});

describe('analyzeRobustness by hand and on wide runs', () => {
  it('counts survival exactly on a tiny run, with 2-byte class indices', () => {
    // 2 levels × K = 3 × N = 2, 300 classes (Uint16Array). Image 0: dense 7,7,7 → 7,7,9
    // (survives); level 299,299,1 → 1,1,299 (moves). Image 1: dense 5,5,5 → 6,6,6 (moves).
    const K = 3, N = 2, C = 300;
    const labels = new Uint16Array([7, 5]);
    const clean = new Uint16Array(2 * K * N);
    setVotes(clean, 0, 0, K, N, [7, 7, 7]); setVotes(clean, 1, 0, K, N, [299, 299, 1]);
    setVotes(clean, 0, 1, K, N, [5, 5, 5]); setVotes(clean, 1, 1, K, N, [5, 5, 5]);
    const corr = new Uint16Array(2 * K * N);
    setVotes(corr, 0, 0, K, N, [7, 7, 9]); setVotes(corr, 1, 0, K, N, [1, 1, 299]);
    setVotes(corr, 0, 1, K, N, [6, 6, 6]); setVotes(corr, 1, 1, K, N, [5, 5, 5]);
    const { summary, modal } = analyzeRobustness({
      clean, corrupted: [{ name: 'x', severity: 2, predictions: corr }], labels, numClasses: C, levelNames: ['dense', 'q'], K,
    });
    expect(modal[0]).toBeInstanceOf(Uint16Array);
    expect(Array.from(modal[0])).toEqual([7, 6, 1, 5]);
    expect(summary.levels[1].cells[0].survival).toEqual({ denseSurvived: 1, kept: 0, lost: 1, share: 0 });
    // Accuracy: dense members on corr: [1/2, 1/2, 0/2]; level: [0, 0, 0] + image 1 right → [1/2, 1/2, 1/2].
    expect(summary.levels[0].cells[0].accuracy.mean).toBeCloseTo(1 / 3, 12);
    expect(summary.levels[1].cells[0].accuracy.mean).toBeCloseTo(1 / 2, 12);
    // Dense gains nothing from clean (1/2 + 1/2 + 1/2 → less): relative CE is defined; the level
    // loses no accuracy (clean 1/2 → 1/2) so its added error is 0.
    expect(summary.levels[1].corruptionErrors[0].relativeCe).toBe(0);
    // A corruption that adds no error to dense leaves relative CE undefined.
    const same = analyzeRobustness({ clean, corrupted: [{ name: 'id', severity: 1, predictions: clean }], labels, numClasses: C, levelNames: ['dense', 'q'], K });
    expect(same.summary.levels[1]).toMatchObject({ relativeMCE: null, mCE: null }) // dense is perfect on clean: no baseline error;
  });

  it('refuses predictions of another class width, repeated keys and wrong lengths, naming them', () => {
    const labels = new Uint16Array([1, 2]);
    const clean = new Uint16Array(2 * 2 * 2);
    const base = { clean, labels, numClasses: 300, levelNames: ['dense', 'q'], K: 2 };
    expect(() => analyzeRobustness({ ...base, corrupted: [{ name: 'fog', severity: 1, predictions: new Uint8Array(8) }] })).toThrow(/fog-1.*class width/);
    const ok = { name: 'fog', severity: 1, predictions: new Uint16Array(8) };
    expect(() => analyzeRobustness({ ...base, corrupted: [ok, ok] })).toThrow(/fog-1 is given twice/);
    expect(() => analyzeRobustness({ ...base, corrupted: [{ ...ok, predictions: new Uint16Array(6) }] })).toThrow(/predictions/);
  });
});
