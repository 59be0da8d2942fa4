import { modalFromCounts, taxicab, type ClassImpact } from '../lib/analysis/index.ts';
import { type ClassArray, classBytesFor, newClassArray } from '../lib/class-array.ts';
import { argmax } from '../lib/model/index.ts';
import type { LoadedRun } from './runs.ts';

export interface ClassRef { index: number; name: string }

/** The class-level test row (lib/analysis) of one class involved in an image's answer. */
export interface ClassContextRow extends ClassRef,
  Pick<ClassImpact, 'normalizedChange' | 't' | 'df' | 'p' | 'pAdjusted' | 'significant' | 'significantAdjusted' | 'direction'> {
  /** Why this class is listed for the image: its true class, the dense modal label, the level's modal label. */
  roles: ('true' | 'dense-modal' | 'level-modal')[];
}

export interface LevelAnswer {
  level: string;
  kind: 'dense' | 'pruned' | 'quantized';
  sparsity: number;
  /** Fraction of the level's K members voting for each class. */
  votes: number[];
  /** Each member's predicted class. */
  memberPredictions: number[];
  modal: ClassRef;
  /** The level's modal label differs from the dense population's (never for dense itself). */
  isPie: boolean;
  /** Σ_c |v_c(level) − v_c(dense)|, 0…2. */
  taxicab: number;
  /** Class-level test rows of the classes involved (empty for the dense level). */
  classContext: ClassContextRow[];
}

export interface ImageAnswer {
  runId: string;
  image: { source: 'dataset'; index: number; png: string } | { source: 'upload'; preprocessing: unknown };
  trueLabel: ClassRef | null;
  denseModal: ClassRef;
  /** Names of the levels at which the image is a PIE. */
  pieLevels: string[];
  levels: LevelAnswer[];
}

export function classRef(run: LoadedRun, c: number): ClassRef {
  return { index: c, name: run.manifest.dataset.classNames[c] ?? String(c) };
}

function contextRow(run: LoadedRun, t: number, c: number, roles: ClassContextRow['roles']): ClassContextRow {
  const row: ClassImpact | undefined = run.summary.levels[t]?.classes[c];
  return {
    index: c, name: run.manifest.dataset.classNames[c] ?? String(c), roles, // a literal, not ...classRef(): the spread is ~70× slower in V8
    normalizedChange: row?.normalizedChange ?? null, t: row?.t ?? null, df: row?.df ?? null,
    p: row?.p ?? null, pAdjusted: row?.pAdjusted ?? null,
    significant: row?.significant ?? false, significantAdjusted: row?.significantAdjusted ?? false,
    direction: row?.direction ?? 'none',
  };
}

/**
 * The answer for one image from its members' predictions — the same function for a dataset
 * image (precomputed predictions) and an upload (predicted live), so the two agree exactly.
 * `memberPredictions` is [levels × K].
 */
export function buildAnswer(
  run: LoadedRun,
  memberPredictions: ClassArray,
  trueLabel: number | null,
  image: ImageAnswer['image'],
  /** Only these levels (indices, dense = 0 among them) are answered; the others' predictions are ignored. */
  levelIndices?: readonly number[],
): ImageAnswer {
  const { levels, K, numClasses } = run;
  const counts = new Uint16Array(levels * numClasses);
  for (let t = 0; t < levels; t++) for (let k = 0; k < K; k++) counts[t * numClasses + memberPredictions[t * K + k]]++;
  const modal = modalFromCounts(counts, levels, numClasses, run.summary.tieRule);
  // A plain loop: Array.from over a typed array with a map function is ~10× slower, which shows at 1000 classes.
  const dist = (t: number) => {
    const out = new Array<number>(numClasses);
    for (let c = 0, base = t * numClasses; c < numClasses; c++) out[c] = counts[base + c] / K;
    return out;
  };
  const dense = dist(0);
  // Only the levels asked for are built (dense's votes are needed for every taxicab score anyway).
  const wanted = levelIndices ?? run.manifest.levels.map((_, t) => t);
  const answers: LevelAnswer[] = wanted.map((t) => {
    const level = run.manifest.levels[t];
    const votes = dist(t);
    const isPie = t > 0 && modal[t] !== modal[0];
    const classes = new Map<number, ClassContextRow['roles']>();
    const add = (c: number, role: ClassContextRow['roles'][number]) => classes.set(c, [...(classes.get(c) ?? []), role]);
    if (t > 0) {
      if (trueLabel !== null) add(trueLabel, 'true');
      add(modal[0], 'dense-modal');
      add(modal[t], 'level-modal');
    }
    return {
      level: level.name, kind: level.kind, sparsity: level.sparsity,
      votes, memberPredictions: Array.from(memberPredictions.subarray(t * K, (t + 1) * K)),
      modal: classRef(run, modal[t]), isPie,
      taxicab: t === 0 ? 0 : taxicab(votes, dense),
      classContext: [...classes].map(([c, roles]) => contextRow(run, t, c, roles)),
    };
  });
  return {
    runId: run.runId, image,
    trueLabel: trueLabel === null ? null : classRef(run, trueLabel),
    denseModal: classRef(run, modal[0]),
    pieLevels: answers.filter((a) => a.isPie).map((a) => a.level),
    levels: answers,
  };
}

/** Members' precomputed predictions of dataset image i, [levels × K]. */
export function datasetMemberPredictions(run: LoadedRun, i: number): ClassArray {
  const out = newClassArray(run.levels * run.K, classBytesFor(run.numClasses));
  for (let m = 0; m < run.levels * run.K; m++) out[m] = run.predictions[m * run.N + i];
  return out;
}

/**
 * Every member of the given levels (default: all) on one image, live, with the lib/ kernels:
 * [levels × K], entries of other levels left 0. Levels run one after another, so a request
 * needs only one level's weights in memory at a time (see PredictorCache).
 */
export async function liveMemberPredictions(run: LoadedRun, input: Float32Array, levelIndices?: readonly number[]): Promise<ClassArray> {
  const out = newClassArray(run.levels * run.K, classBytesFor(run.numClasses));
  const logits = new Float32Array(run.numClasses);
  for (const t of levelIndices ?? run.manifest.levels.map((_, t) => t)) {
    await run.withPredictors(t, (predictors) => predictors.forEach((p, k) => {
      out[t * run.K + k] = argmax(p.logits(input, logits));
    }));
  }
  return out;
}
