import betaCdf from '@stdlib/stats-base-dists-beta-cdf';
import betaQuantile from '@stdlib/stats-base-dists-beta-quantile';
import type { ClassArray } from '../class-array.ts';
import { DEFAULT_ALPHA } from './classes.ts';
import type { TieRule } from './modal.ts';
import { checkPopulation } from './run.ts';
import { benjaminiHochberg, mean, summarize, type Summary, welchTTest } from './stats.ts';
import { imageVoteStats } from './votes.ts';

// Subgroup disparity (Hooker et al. 2020, "Characterizing and Mitigating Bias in Compact
// Models"): per level and subgroup of the test images, the error rate, its change from dense
// against the overall change, a one-sided Welch test over members and PIE over-indexing.

/** One categorical attribute per test image: values[i] for image i ('' = unknown, in no subgroup). */
export interface Attribute {
  name: string;
  values: string[];
}

export interface SubgroupInput {
  /** [levels × K × N] */
  predictions: ClassArray;
  labels: ClassArray;
  numClasses: number;
  levelNames: string[];
  K: number;
  attributes: Attribute[];
  tieRule?: TieRule;
  alpha?: number;
  /** Include pairs of two attributes (a=x & b=y). Default true. */
  pairs?: boolean;
}

/** A subgroup: one attribute value, or one combination of two attributes' values. */
export interface SubgroupDef {
  /** 'hair=blond' or 'hair=blond&gender=male'. */
  key: string;
  attributes: Record<string, string>;
  /** Images in it. */
  size: number;
  /** size / N. */
  share: number;
}

/** One subgroup at one level; non-finite numbers are null. */
export interface SubgroupRow {
  key: string;
  /** Top-1 error rate inside the subgroup over the level's members. */
  error: Summary;
  /** mean error here − mean error of the dense members here. */
  errorChange: number;
  /** The same change over the whole test set. */
  overallChange: number;
  /**
   * Disparate impact: errorChange ÷ overallChange (> 1: the subgroup loses more than the test
   * set as a whole). Null when overall error does not change.
   */
  disparateImpact: number | null;
  /** errorChange − overallChange: what the Welch test weighs. */
  excessChange: number;
  /**
   * One-sided Welch test over members of "this subgroup loses more than the whole test set":
   * sample V_k = err_g(t,k) − err(t,k) against B_k = err_g(0,k) − err(0,k), H1 mean(V) > mean(B).
   */
  t: number | null;
  df: number | null;
  p: number | null;
  /** BH over the subgroups of this level. */
  pAdjusted: number | null;
  hurt: boolean;
  hurtAdjusted: boolean;
  /** |PIE_t ∩ g|. */
  pieCount: number;
  /**
   * Over-indexing P(g | PIE_t) / P(g) with its Clopper–Pearson (1 − α) interval (share of the test
   * set taken as fixed); null when the level has no PIE.
   */
  overIndex: { ratio: number; low: number; high: number } | null;
  /** One-sided exact binomial p of |PIE_t ∩ g| ≥ observed with p0 = P(g); null without PIEs. */
  overIndexP: number | null;
  overIndexPAdjusted: number | null;
  overIndexed: boolean;
  overIndexedAdjusted: boolean;
}

export interface LevelSubgroups {
  name: string;
  pieCount: number;
  /** Mean error over members, whole test set. */
  overallError: number;
  rows: SubgroupRow[];
  /** Subgroups significantly hurt / over-indexed, uncorrected and BH-adjusted. */
  hurt: number;
  hurtAdjusted: number;
  overIndexed: number;
  overIndexedAdjusted: number;
}

export interface SubgroupSummary {
  alpha: number;
  numImages: number;
  membersPerLevel: number;
  attributes: { name: string; values: string[] }[];
  subgroups: SubgroupDef[];
  levels: LevelSubgroups[];
}

/** Every subgroup of the attributes: each value, then (if asked) each present pair of values of two attributes. */
export function subgroupMasks(attributes: Attribute[], N: number, pairs = true): { def: Omit<SubgroupDef, 'size' | 'share'>; members: Uint32Array }[] {
  for (const a of attributes) {
    if (a.values.length !== N) throw new RangeError(`attribute ${a.name}: expected ${N} values, got ${a.values.length}`);
  }
  const single = attributes.flatMap((a) => {
    const by = new Map<string, number[]>();
    a.values.forEach((v, i) => { if (v !== '') (by.get(v) ?? by.set(v, []).get(v)!).push(i); });
    return [...by.keys()].sort().map((v) => ({ def: { key: `${a.name}=${v}`, attributes: { [a.name]: v } }, members: Uint32Array.from(by.get(v)!) }));
  });
  if (!pairs) return single;
  const out = [...single];
  for (let x = 0; x < attributes.length; x++) {
    for (let y = x + 1; y < attributes.length; y++) {
      const a = attributes[x], b = attributes[y];
      const by = new Map<string, number[]>();
      for (let i = 0; i < N; i++) {
        if (a.values[i] === '' || b.values[i] === '') continue;
        const k = `${a.name}=${a.values[i]}&${b.name}=${b.values[i]}`;
        (by.get(k) ?? by.set(k, []).get(k)!).push(i);
      }
      for (const k of [...by.keys()].sort()) {
        const members = by.get(k)!;
        const i0 = members[0];
        out.push({ def: { key: k, attributes: { [a.name]: a.values[i0], [b.name]: b.values[i0] } }, members: Uint32Array.from(members) });
      }
    }
  }
  return out;
}

/**
 * Clopper–Pearson exact interval for a binomial proportion x / n at level 1 − alpha:
 * [B(α/2; x, n − x + 1), B(1 − α/2; x + 1, n − x)], 0 and 1 at the ends.
 */
export function clopperPearson(x: number, n: number, alpha = DEFAULT_ALPHA): { low: number; high: number } {
  if (!Number.isInteger(x) || !Number.isInteger(n) || n < 1 || x < 0 || x > n) {
    throw new RangeError(`clopperPearson: expected integers 0 ≤ x ≤ n, n ≥ 1, got x = ${x}, n = ${n}`);
  }
  return {
    low: x === 0 ? 0 : betaQuantile(alpha / 2, x, n - x + 1),
    high: x === n ? 1 : betaQuantile(1 - alpha / 2, x + 1, n - x),
  };
}

/** P(X ≥ x) for X ~ Binomial(n, p0), via the regularized incomplete beta: I_p0(x, n − x + 1). */
export function binomialUpperTail(x: number, n: number, p0: number): number {
  if (x <= 0) return 1;
  if (x > n) return 0;
  return betaCdf(p0, x, n - x + 1);
}

export function analyzeSubgroups(input: SubgroupInput): SubgroupSummary {
  const { predictions, labels, numClasses, levelNames, K, attributes } = input;
  const { tieRule, alpha, levels, N } = checkPopulation(predictions, input);
  if (attributes.length === 0) throw new RangeError('attributes: expected at least one attribute column, got none');

  const groups = subgroupMasks(attributes, N, input.pairs ?? true);
  const { modal } = imageVoteStats(predictions, levels, K, N, numClasses, tieRule);
  // wrong[(t * K + k) * N + i] = 1 when member k of level t gets image i wrong.
  const memberError = (t: number, k: number, idx: Uint32Array | null): number => {
    const base = (t * K + k) * N;
    let wrong = 0;
    if (idx === null) { for (let i = 0; i < N; i++) if (predictions[base + i] !== labels[i]) wrong++; return wrong / N; }
    for (let j = 0; j < idx.length; j++) if (predictions[base + idx[j]] !== labels[idx[j]]) wrong++;
    return wrong / idx.length;
  };
  const overall = new Float64Array(levels * K);
  for (let t = 0; t < levels; t++) for (let k = 0; k < K; k++) overall[t * K + k] = memberError(t, k, null);
  const groupErr = groups.map(({ members }) => {
    const e = new Float64Array(levels * K);
    for (let t = 0; t < levels; t++) for (let k = 0; k < K; k++) e[t * K + k] = memberError(t, k, members);
    return e;
  });
  const row = (a: Float64Array, t: number) => a.subarray(t * K, (t + 1) * K);

  const result: LevelSubgroups[] = levelNames.map((name, t) => {
    const pies = new Uint8Array(N);
    let pieCount = 0;
    for (let i = 0; i < N; i++) if (modal[t * N + i] !== modal[i]) { pies[i] = 1; pieCount++; }
    const overallChange = mean(row(overall, t)) - mean(row(overall, 0));
    const rows: SubgroupRow[] = groups.map(({ def, members }, g) => {
      const e = groupErr[g];
      const V = new Float64Array(K), B = new Float64Array(K);
      for (let k = 0; k < K; k++) {
        V[k] = e[t * K + k] - overall[t * K + k];
        B[k] = e[k] - overall[k];
      }
      const test = welchTTest(V, B);
      // One-sided from the two-sided p: half of it on the side of the alternative.
      const p = Number.isNaN(test.p) ? NaN : test.t > 0 ? test.p / 2 : 1 - test.p / 2;
      const errorChange = mean(row(e, t)) - mean(row(e, 0));
      let inPie = 0;
      for (let j = 0; j < members.length; j++) inPie += pies[members[j]];
      const share = members.length / N;
      let overIndex: SubgroupRow['overIndex'] = null;
      let overIndexP: number | null = null;
      if (pieCount > 0) {
        const ci = clopperPearson(inPie, pieCount, alpha);
        overIndex = { ratio: inPie / pieCount / share, low: ci.low / share, high: ci.high / share };
        overIndexP = binomialUpperTail(inPie, pieCount, share);
      }
      return {
        key: def.key,
        error: summarize(row(e, t)),
        errorChange,
        overallChange,
        disparateImpact: overallChange === 0 ? null : finiteOrNull(errorChange / overallChange),
        excessChange: mean(V) - mean(B),
        t: finiteOrNull(test.t),
        df: finiteOrNull(test.df),
        p: finiteOrNull(p),
        pAdjusted: null,
        hurt: p <= alpha,
        hurtAdjusted: false,
        pieCount: inPie,
        overIndex,
        overIndexP,
        overIndexPAdjusted: null,
        overIndexed: overIndexP !== null && overIndexP <= alpha,
        overIndexedAdjusted: false,
      };
    });
    const adj = benjaminiHochberg(rows.map((r) => r.p ?? NaN));
    const adjO = benjaminiHochberg(rows.map((r) => r.overIndexP ?? NaN));
    rows.forEach((r, g) => {
      r.pAdjusted = finiteOrNull(adj[g]);
      r.hurtAdjusted = adj[g] <= alpha;
      r.overIndexPAdjusted = finiteOrNull(adjO[g]);
      r.overIndexedAdjusted = adjO[g] <= alpha;
    });
    return {
      name, pieCount, overallError: mean(row(overall, t)), rows,
      hurt: rows.filter((r) => r.hurt).length,
      hurtAdjusted: rows.filter((r) => r.hurtAdjusted).length,
      overIndexed: rows.filter((r) => r.overIndexed).length,
      overIndexedAdjusted: rows.filter((r) => r.overIndexedAdjusted).length,
    };
  });

  return {
    alpha, numImages: N, membersPerLevel: K,
    attributes: attributes.map((a) => ({ name: a.name, values: [...new Set(a.values.filter((v) => v !== ''))].sort() })),
    subgroups: groups.map(({ def, members }) => ({ ...def, size: members.length, share: members.length / N })),
    levels: result,
  };
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
