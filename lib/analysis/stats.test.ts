import { describe, expect, it } from 'vitest';
import { benjaminiHochberg, sampleVariance, summarize, welchTTest } from './stats.ts';

// Reference values: the three worked examples of Wikipedia's "Welch's t-test" article
// (published rounded: t = −2.46 / −1.57 / −2.22, p = 0.021 / 0.149 / 0.036), with full-precision
// t, df and p from SciPy 1.17.1: scipy.stats.ttest_ind(a1, a2, equal_var=False).
const WELCH_EXAMPLES = [
  {
    a1: [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4],
    a2: [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4],
    t: -2.455356398286006,
    df: 24.988529290231416,
    p: 0.021378001462866992,
  },
  {
    a1: [17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8],
    a2: [
      21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8, 20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5, 23.5, 21.5,
      21.8,
    ],
    t: -1.5654335235985037,
    df: 9.904741248650831,
    p: 0.14884169660532817,
  },
  {
    a1: [19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.9, 19.5, 22.0],
    a2: [
      28.2, 26.6, 20.1, 23.3, 25.2, 22.1, 17.7, 27.6, 20.6, 13.7, 23.2, 17.5, 20.6, 18.0, 23.9, 21.6, 24.3, 20.4, 23.9,
      13.3,
    ],
    t: -2.225512039969852,
    df: 24.524634944257343,
    p: 0.035484530830010394,
  },
];

describe('welchTTest', () => {
  it.each(WELCH_EXAMPLES.map((e, n) => [n + 1, e] as const))('matches SciPy on Wikipedia example %i', (_, e) => {
    const r = welchTTest(e.a1, e.a2);
    expect(r.t).toBeCloseTo(e.t, 10);
    expect(r.df).toBeCloseTo(e.df, 10);
    expect(r.p).toBeCloseTo(e.p, 10);
  });

  it('takes the sign of mean(x) − mean(y), like ttest_ind(x, y)', () => {
    const { a1, a2 } = WELCH_EXAMPLES[0];
    const forward = welchTTest(a1, a2);
    const backward = welchTTest(a2, a1);
    expect(backward.t).toBeCloseTo(-forward.t, 12);
    expect(backward.p).toBeCloseTo(forward.p, 12);
  });

  it('keeps tiny p-values for large |t| instead of rounding them to 0', () => {
    const r = welchTTest([10, 10.1, 9.9, 10.05, 9.95], [0, 0.1, -0.1, 0.05, -0.05]);
    expect(r.p).toBeGreaterThan(0);
    expect(r.p).toBeLessThan(1e-10);
  });

  it('gives t = 0, p = 1 when both samples are the same constant', () => {
    expect(welchTTest([0.1, 0.1, 0.1], [0.1, 0.1])).toEqual({ t: 0, df: NaN, p: 1 });
  });

  it('gives t = ±Infinity and an undefined p when both samples are constant with different means', () => {
    expect(welchTTest([0.3, 0.3, 0.3], [0.1, 0.1, 0.1])).toEqual({ t: Infinity, df: NaN, p: NaN });
    expect(welchTTest([0.1, 0.1], [0.3, 0.3, 0.3])).toEqual({ t: -Infinity, df: NaN, p: NaN });
  });

  it('uses the other sample’s n − 1 as df when one sample is constant', () => {
    expect(welchTTest([1, 2, 3, 4, 5], [0, 0, 0]).df).toBeCloseTo(4, 12);
  });

  it('is undefined (NaN) with fewer than two observations in a sample', () => {
    expect(welchTTest([1], [1, 2, 3])).toEqual({ t: NaN, df: NaN, p: NaN });
  });
});

describe('benjaminiHochberg', () => {
  // The 15 p-values of Benjamini & Hochberg (1995), section 4; the paper's procedure rejects
  // the 4 smallest at q = 0.05. Adjusted values from SciPy 1.17.1
  // scipy.stats.false_discovery_control(p, method='bh'), which equals R's p.adjust(p, "BH").
  const BH_1995 = [
    0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719, 0.6528, 0.759, 1.0,
  ];
  const BH_1995_ADJUSTED = [
    0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.06385714285714286, 0.06385714285714286, 0.0645, 0.07650000000000001,
    0.486, 0.5811818181818181, 0.7148749999999999, 0.7532307692307693, 0.8132142857142857, 1.0,
  ];

  it('matches R p.adjust(method = "BH") on the Benjamini–Hochberg 1995 example', () => {
    const adjusted = benjaminiHochberg(BH_1995);
    BH_1995_ADJUSTED.forEach((q, i) => expect(adjusted[i]).toBeCloseTo(q, 12));
    expect(Array.from(adjusted).filter((q) => q <= 0.05)).toHaveLength(4);
  });

  it('works on unsorted input and keeps the input order', () => {
    // SciPy: false_discovery_control([0.01, 0.04, 0.03, 0.005, 0.2, 0.04]) = [0.03, 0.048, 0.048, 0.03, 0.2, 0.048]
    const adjusted = benjaminiHochberg([0.01, 0.04, 0.03, 0.005, 0.2, 0.04]);
    [0.03, 0.048, 0.048, 0.03, 0.2, 0.048].forEach((q, i) => expect(adjusted[i]).toBeCloseTo(q, 12));
  });

  it('leaves NaN as NaN and does not count it, like NA in R', () => {
    // R: p.adjust(c(0.01, NA, 0.04), "BH") = 0.02 NA 0.04
    const adjusted = benjaminiHochberg([0.01, NaN, 0.04]);
    expect(adjusted[0]).toBeCloseTo(0.02, 12);
    expect(adjusted[1]).toBeNaN();
    expect(adjusted[2]).toBeCloseTo(0.04, 12);
  });

  it('never exceeds 1', () => {
    expect(Math.max(...benjaminiHochberg([0.9, 0.95, 0.99]))).toBeLessThanOrEqual(1);
  });
});

describe('summarize', () => {
  it('uses the sample standard deviation (n − 1)', () => {
    const s = summarize([0.5, 0.75, 1]);
    expect(s.sd).toBeCloseTo(0.25, 12); // population sd would be 0.2041
    expect(s).toMatchObject({ mean: 0.75, min: 0.5, max: 1 });
  });

  it('reports sd as null for a single value', () => {
    expect(summarize([0.8]).sd).toBeNull();
  });

  it('gives exactly zero variance for a constant sample', () => {
    expect(sampleVariance([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])).toBe(0);
  });
});
