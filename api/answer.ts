import { modalFromCounts, type ClassImpact, type TieRule } from '../lib/analysis/index.ts';
import { type ClassArray, classBytesFor, newClassArray } from '../lib/class-array.ts';
import { predictEach } from '../lib/model/index.ts';
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
  /**
   * How many of the level's K members voted for each class, for the classes with votes only
   * (at most K entries; keys are class indices): sparse, so an answer does not grow with the class count.
   */
  voteCounts: Record<string, number>;
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
  // Plain loops, no closures or Maps per level: an answer not yet cached is built on a lookup's path.
  const { K } = run;
  const { levels } = run.manifest;
  const { tieRule } = run.summary;
  // Votes per level, sparse: the K members' predictions sorted and run-length coded, so an
  // answer costs O(levels × K) whatever the class count (1000 classes, K = 30: at most 30 entries).
  // Dense's votes are needed for every PIE decision and taxicab score; only the levels asked for are built.
  const dense = levelVotes(memberPredictions.subarray(0, K), tieRule);
  const answers: LevelAnswer[] = [];
  const pieLevels: string[] = [];
  for (let j = 0, count = levelIndices ? levelIndices.length : levels.length; j < count; j++) {
    const t = levelIndices ? levelIndices[j] : j;
    const level = levels[t];
    const votes = t === 0 ? dense : levelVotes(memberPredictions.subarray(t * K, (t + 1) * K), tieRule);
    const isPie = t > 0 && votes.modal !== dense.modal;
    if (isPie) pieLevels.push(level.name);
    const classContext: ClassContextRow[] = [];
    if (t > 0) {
      if (trueLabel !== null) addContext(classContext, run, t, trueLabel, 'true');
      addContext(classContext, run, t, dense.modal, 'dense-modal');
      addContext(classContext, run, t, votes.modal, 'level-modal');
    }
    const voteCounts = voteCountsOf(votes, run.numClasses);
    answers.push({
      level: level.name, kind: level.kind, sparsity: level.sparsity,
      voteCounts, memberPredictions: Array.from(memberPredictions.subarray(t * K, (t + 1) * K)),
      modal: classRef(run, votes.modal), isPie,
      taxicab: t === 0 ? 0 : sparseTaxicab(votes, dense, K),
      classContext,
    });
  }
  return {
    runId: run.runId, image,
    trueLabel: trueLabel === null ? null : classRef(run, trueLabel),
    denseModal: classRef(run, dense.modal),
    pieLevels,
    levels: answers,
  };
}

/** Lists class c at level t with this role: a new row, or one more role of the row listing it. */
function addContext(rows: ClassContextRow[], run: LoadedRun, t: number, c: number, role: ClassContextRow['roles'][number]): void {
  for (const row of rows) if (row.index === c) { row.roles.push(role); return; }
  rows.push(contextRow(run, t, c, [role]));
}

const FAR_INDEX = 2 ** 30;

/**
 * `{ [class]: count }` over the voted classes. Integer keys are array elements to V8: set one by
 * one on a plain object, a key such as 966 makes it allocate ~1 500 slots, which JSON.stringify then
 * walks. Above 256 classes the object is made sparse (dictionary elements) first by setting and
 * deleting a far index: a 1000-class answer is built and serialized in 0.75 of the time.
 */
function voteCountsOf(votes: LevelVotes, numClasses: number): Record<string, number> {
  const out: Record<string, number> = {};
  if (numClasses > 256) { out[FAR_INDEX] = 0; delete out[FAR_INDEX]; }
  for (let j = 0; j < votes.classes.length; j++) out[votes.classes[j]] = votes.counts[j];
  return out;
}

/** One level's votes: the distinct classes voted for, ascending, with their counts, and the modal class. */
interface LevelVotes { classes: number[]; counts: Uint16Array; modal: number }

function levelVotes(preds: ClassArray, tieRule: TieRule): LevelVotes {
  const sorted = preds.slice().sort();
  const classes: number[] = [];
  const counts = new Uint16Array(sorted.length);
  for (let k = 0; k < sorted.length; k++) {
    if (k === 0 || sorted[k] !== sorted[k - 1]) classes.push(sorted[k]);
    counts[classes.length - 1]++;
  }
  // The modal label by the analysis's own rule, over the voted classes only: they are ascending, so
  // "ties to the largest (or first) class" picks the same class as over all classes.
  const j = modalFromCounts(counts.subarray(0, classes.length), 1, classes.length, tieRule)[0];
  return { classes, counts: counts.subarray(0, classes.length), modal: classes[j] };
}

/**
 * Σ_c |v_c(level) − v_c(dense)| over the classes either voted for, from integer counts divided
 * once by K (as lib/analysis's taxicabFromCounts, so identical votes give exactly 0).
 */
function sparseTaxicab(a: LevelVotes, b: LevelVotes, K: number): number {
  let d = 0;
  let i = 0, j = 0;
  while (i < a.classes.length || j < b.classes.length) {
    const ca = i < a.classes.length ? a.classes[i] : Infinity, cb = j < b.classes.length ? b.classes[j] : Infinity;
    if (ca === cb) { d += Math.abs(a.counts[i++] - b.counts[j++]); } else if (ca < cb) { d += a.counts[i++]; } else { d += b.counts[j++]; }
  }
  return d / K;
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
  for (const t of levelIndices ?? run.manifest.levels.map((_, t) => t)) {
    await run.withPredictors(t, (predictors) => predictEach(predictors, input, out, t * run.K));
  }
  return out;
}
