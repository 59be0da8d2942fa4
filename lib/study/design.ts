/**
 * The human study of Hooker et al. ("What Do Compressed Deep Neural Networks Forget?", §4):
 * people shown PIEs and an equal number of random non-PIEs, not told which is which, mark why
 * an image is hard. Here: the Label Studio labeling config and the task list for a data team to
 * run it on their own run.
 */
import { mulberry32, permutation, seedFor } from '../random.ts';

/** The paper's categories, plus "none of these". The ids are the choice values in the config and the export. */
export const STUDY_CATEGORIES = [
  { id: 'incorrect-ground-truth', label: 'Incorrect or inadequate ground truth' },
  { id: 'multiple-objects', label: 'Multiple objects' },
  { id: 'co-occurring-labels', label: 'Frequently co-occurring labels' },
  { id: 'fine-grained', label: 'Fine-grained class' },
  { id: 'abstract', label: 'Abstract representation' },
  { id: 'atypical', label: 'Atypical exemplar' },
  { id: 'low-quality', label: 'Lower image quality' },
] as const;
export const NONE_OF_THESE = 'none-of-these';
export const NONE_OF_THESE_LABEL = 'None of these';

/** A category id from a choice value of an export (its label) or an id. */
export function categoryId(choice: string): string | null {
  const v = choice.trim().toLowerCase();
  if (v === NONE_OF_THESE || v === NONE_OF_THESE_LABEL.toLowerCase()) return NONE_OF_THESE;
  return STUDY_CATEGORIES.find((c) => c.id === v || c.label.toLowerCase() === v)?.id ?? null;
}

/** Names of the config's controls (the keys a Label Studio export's results carry). */
export const STUDY_CONTROLS = { image: 'image', label: 'label', categories: 'categories' } as const;

const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A labeling config: the image, a required single choice of class (first, so the ML backend
 * pre-labels it), and a multi-select of the paper's categories with "none of these".
 */
export function studyLabelConfig(classNames: readonly string[]): string {
  const { image, label, categories } = STUDY_CONTROLS;
  return [
    '<View>',
    `  <Image name="${image}" value="$image" zoom="true" zoomControl="true"/>`,
    '  <Header value="What does the image show?"/>',
    `  <Choices name="${label}" toName="${image}" choice="single-radio" required="true" showInline="true">`,
    ...classNames.map((c) => `    <Choice value="${attr(c)}"/>`),
    '  </Choices>',
    '  <Header value="Why could this image be hard to classify? (tick all that apply)"/>',
    `  <Choices name="${categories}" toName="${image}" choice="multiple" required="true">`,
    ...STUDY_CATEGORIES.map((c) => `    <Choice value="${attr(c.label)}"/>`),
    `    <Choice value="${NONE_OF_THESE_LABEL}"/>`,
    '  </Choices>',
    '</View>',
  ].join('\n');
}

export interface StudySample {
  /** Evaluation image indices, shuffled so PIEs and non-PIEs are interleaved. */
  indices: number[];
  pies: number;
  nonPies: number;
}

/**
 * A level's PIEs (at most `maxPies`, a seeded random subset if there are more) and as many
 * random non-PIEs, drawn with `seed`, in a seeded random order. `isPie` is the level's row of
 * the run's PIE flags ([N]).
 */
export function sampleStudy(isPie: ArrayLike<number | boolean>, opts: { seed: number; maxPies?: number; level: string }): StudySample {
  const pieIdx: number[] = [], rest: number[] = [];
  for (let i = 0; i < isPie.length; i++) (isPie[i] ? pieIdx : rest).push(i);
  const pick = (from: number[], k: number, salt: string) => {
    const order = permutation(from.length, mulberry32(seedFor(opts.seed, 'study', opts.level, salt)));
    return Array.from(order.subarray(0, k), (j) => from[j]);
  };
  const n = Math.min(pieIdx.length, opts.maxPies ?? Infinity, rest.length);
  const chosen = [...pick(pieIdx, n, 'pies'), ...pick(rest, n, 'non-pies')];
  const order = permutation(chosen.length, mulberry32(seedFor(opts.seed, 'study', opts.level, 'order')));
  return { indices: Array.from(order, (j) => chosen[j]), pies: n, nonPies: n };
}

/** What a study task carries besides its image: where it came from, never whether it is a PIE. */
export interface StudyRef { run: string; level: string; index: number }

export const STUDY_KEY = 'pie_study';

export function studyRefString(r: StudyRef): string {
  return `${r.run}/${r.level}/${r.index}`;
}

export function parseStudyRef(v: unknown): StudyRef | null {
  const m = typeof v === 'string' ? /^([A-Za-z0-9][A-Za-z0-9._-]*)\/([^/]+)\/(\d+)$/.exec(v) : null;
  return m ? { run: m[1], level: m[2], index: Number(m[3]) } : null;
}

/** Label Studio import tasks: `{ data: { image, pie_study: "<run>/<level>/<index>" } }`. */
export function studyTasks(sample: StudySample, ref: Omit<StudyRef, 'index'>, imageUrl: (index: number) => string) {
  return sample.indices.map((index) => ({ data: { image: imageUrl(index), [STUDY_KEY]: studyRefString({ ...ref, index }) } }));
}
