/**
 * Reads a Label Studio JSON export (Export → JSON: an array of tasks, each with `data` and
 * `annotations[].result[]` as label_studio/data_export/serializers.py ExportDataSerializer
 * writes them) of a study project made from `studyTasks`.
 */
import { categoryId, parseStudyRef, STUDY_CONTROLS, STUDY_KEY, type StudyRef } from './design.ts';
import type { StudyRecord } from './tally.ts';

export interface StudyAnswer { categories: string[]; className: string | null }
export interface StudyTask { id: number | string | null; ref: StudyRef; annotations: StudyAnswer[] }

export class StudyExportError extends Error {
  override name = 'StudyExportError';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

function choicesOf(result: unknown, control: string): string[] | null {
  if (!Array.isArray(result)) return null;
  const item = result.find((r) => isObj(r) && r.from_name === control && isObj(r.value) && Array.isArray((r.value as Obj).choices));
  return item ? ((item as Obj).value as { choices: unknown[] }).choices.filter((c): c is string => typeof c === 'string') : null;
}

/**
 * The study tasks of an export and their non-cancelled annotations. Tasks without the study key
 * (other tasks of the project) are skipped and counted; unknown category values are an error,
 * since they mean the export is from another labeling config.
 */
export function parseStudyExport(json: unknown): { tasks: StudyTask[]; skipped: number } {
  if (!Array.isArray(json)) throw new StudyExportError('expected a Label Studio JSON export: an array of tasks');
  const tasks: StudyTask[] = [];
  let skipped = 0;
  json.forEach((t, i) => {
    const ref = isObj(t) && isObj(t.data) ? parseStudyRef(t.data[STUDY_KEY]) : null;
    if (!ref) { skipped++; return; }
    const task = t as Obj;
    const annotations = (Array.isArray(task.annotations) ? task.annotations : []).filter((a): a is Obj => isObj(a) && a.was_cancelled !== true);
    tasks.push({
      id: typeof task.id === 'number' || typeof task.id === 'string' ? task.id : null,
      ref,
      annotations: annotations.map((a) => {
        const cats = choicesOf(a.result, STUDY_CONTROLS.categories) ?? [];
        const ids = cats.map((c) => {
          const id = categoryId(c);
          if (!id) throw new StudyExportError(`task ${String(task.id ?? `#${i}`)}: '${c.slice(0, 80)}' is not one of the study's categories`);
          return id;
        });
        const cls = choicesOf(a.result, STUDY_CONTROLS.label);
        return { categories: ids, className: cls?.[0] ?? null };
      }),
    });
  });
  if (!tasks.length) throw new StudyExportError(`no study tasks in the export: none of its ${json.length} tasks has data.${STUDY_KEY} (make the tasks with \`pie label-studio config\`)`);
  return { tasks, skipped };
}

/** What a run says about an image: is it a PIE at the level, and its dataset label. */
export interface StudyTruth {
  isPie(level: string, index: number): boolean;
  trueClass(index: number): number;
  /** Class index of a class choice value, or null. */
  classIndex(name: string): number | null;
}

export function studyRecords(tasks: readonly StudyTask[], truth: StudyTruth): StudyRecord[] {
  return tasks.map((t) => ({
    isPie: truth.isPie(t.ref.level, t.ref.index),
    trueClass: truth.trueClass(t.ref.index),
    annotations: t.annotations.map((a) => ({ categories: a.categories, classIndex: a.className === null ? null : truth.classIndex(a.className) })),
  }));
}
