/**
 * The study's table: per category, the share of PIEs and of non-PIEs people marked with it, each
 * with a Wilson interval, and a two-sided Fisher exact test of the difference; and how often
 * annotators' class differed from the dataset label, for PIEs and non-PIEs alike.
 */
import { NONE_OF_THESE, STUDY_CATEGORIES } from './design.ts';
import { fisherExact, wilsonShare, type Share } from './stats.ts';

/** One annotated image: PIE or not, and its annotators' answers. */
export interface StudyRecord {
  isPie: boolean;
  /** Per annotation: the category ids marked. */
  annotations: { categories: string[]; classIndex: number | null }[];
  /** The dataset's label of the image. */
  trueClass: number;
}

export interface Comparison {
  pie: Share;
  nonPie: Share;
  /** share among PIEs − share among non-PIEs. */
  difference: number | null;
  /** Two-sided Fisher exact test p-value. */
  p: number;
  significant: boolean;
  /** Which group the category over-indexes on, when significant. */
  direction: 'pie' | 'non-pie' | 'none';
}

export interface StudyTable {
  pies: number;
  nonPies: number;
  annotations: number;
  alpha: number;
  confidence: number;
  categories: ({ id: string; label: string } & Comparison)[];
  /** Images whose annotators' class (majority) differs from the dataset label, among images given a class. */
  disagreement: Comparison;
}

export interface TallyOptions {
  /** Significance level of each test (default 0.05; no multiple-comparison correction, as in the paper). */
  alpha?: number;
  /** Of the intervals (default 0.95). */
  confidence?: number;
}

function compare(pieCount: number, pieN: number, nonCount: number, nonN: number, alpha: number, confidence: number): Comparison {
  const pie = wilsonShare(pieCount, pieN, confidence), nonPie = wilsonShare(nonCount, nonN, confidence);
  const p = pieN && nonN ? fisherExact(pieCount, pieN - pieCount, nonCount, nonN - nonCount) : 1;
  const difference = pie.share !== null && nonPie.share !== null ? pie.share - nonPie.share : null;
  const significant = p <= alpha && difference !== null && difference !== 0;
  return { pie, nonPie, difference, p, significant, direction: significant ? (difference! > 0 ? 'pie' : 'non-pie') : 'none' };
}

/**
 * An image counts for a category when at least half of its annotations mark it (with one
 * annotator per image: when it is marked), so an image counts once whatever its number of
 * annotators and the tests compare images, not ratings. Images without annotations are left out.
 */
export function tallyStudy(records: readonly StudyRecord[], opts: TallyOptions = {}): StudyTable {
  const alpha = opts.alpha ?? 0.05, confidence = opts.confidence ?? 0.95;
  const rated = records.filter((r) => r.annotations.length > 0);
  const groups = { pie: rated.filter((r) => r.isPie), nonPie: rated.filter((r) => !r.isPie) };
  const marked = (r: StudyRecord, id: string) => r.annotations.filter((a) => a.categories.includes(id)).length * 2 >= r.annotations.length;
  const all = [...STUDY_CATEGORIES, { id: NONE_OF_THESE, label: 'None of these' }];
  const categories = all.map((c) => ({
    id: c.id, label: c.label,
    ...compare(groups.pie.filter((r) => marked(r, c.id)).length, groups.pie.length,
      groups.nonPie.filter((r) => marked(r, c.id)).length, groups.nonPie.length, alpha, confidence),
  }));
  // An image's class answer is its annotators' most frequent class (ties: disagreement if any tied class differs).
  const disagrees = (r: StudyRecord): boolean | null => {
    const counts = new Map<number, number>();
    for (const a of r.annotations) if (a.classIndex !== null) counts.set(a.classIndex, (counts.get(a.classIndex) ?? 0) + 1);
    if (!counts.size) return null;
    const top = Math.max(...counts.values());
    return [...counts].some(([c, n]) => n === top && c !== r.trueClass);
  };
  const withClass = (rs: StudyRecord[]) => rs.map(disagrees).filter((d): d is boolean => d !== null);
  const dp = withClass(groups.pie), dn = withClass(groups.nonPie);
  return {
    pies: groups.pie.length, nonPies: groups.nonPie.length,
    annotations: rated.reduce((s, r) => s + r.annotations.length, 0),
    alpha, confidence, categories,
    disagreement: compare(dp.filter(Boolean).length, dp.length, dn.filter(Boolean).length, dn.length, alpha, confidence),
  };
}

/** The table as aligned text (CLI output). */
export function formatStudyTable(t: StudyTable): string {
  const pct = (s: Share) => (s.share === null ? '—' : `${(100 * s.share).toFixed(1)} % [${(100 * s.ci![0]).toFixed(1)}, ${(100 * s.ci![1]).toFixed(1)}]`);
  const rows = [...t.categories.map((c) => ({ name: c.label, ...c })), { name: 'Annotator class ≠ dataset label', ...t.disagreement }];
  const head = ['category', `PIEs (n = ${t.pies})`, `non-PIEs (n = ${t.nonPies})`, 'difference', 'p (Fisher)', 'over-indexes on'];
  const body = rows.map((r) => [
    r.name, pct(r.pie), pct(r.nonPie),
    r.difference === null ? '—' : `${r.difference >= 0 ? '+' : ''}${(100 * r.difference).toFixed(1)} pt`,
    r.p < 1e-4 ? r.p.toExponential(1) : r.p.toFixed(4),
    r.direction === 'pie' ? 'PIEs' : r.direction === 'non-pie' ? 'non-PIEs' : '—',
  ]);
  const widths = head.map((h, j) => Math.max(h.length, ...body.map((b) => b[j].length)));
  const line = (cells: string[]) => cells.map((c, j) => c.padEnd(widths[j])).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line),
    '', `Shares of images with ${Math.round(t.confidence * 100)} % Wilson intervals; two-sided Fisher exact test, significant at p ≤ ${t.alpha} (no multiple-comparison correction, as in the paper).`].join('\n');
}
