// The package's browser build: its default ESM build reads Node's global Buffer, which a Worker
// without nodejs_compat does not have (the Worker failed to start with it).
import { parse } from 'csv-parse/browser/esm/sync';
import type { Attribute } from './analysis/subgroups.ts';

export class AttributesError extends Error {}

const cell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** The attributes as a run stores them: header `image,<columns>`, then row i = test image i. */
export function attributesToCsv(attributes: Attribute[]): string {
  const N = attributes[0]?.values.length ?? 0;
  const lines = [['image', ...attributes.map((a) => a.name)].map(cell).join(',')];
  for (let i = 0; i < N; i++) lines.push([String(i), ...attributes.map((a) => a.values[i])].map(cell).join(','));
  return `${lines.join('\n')}\n`;
}

/**
 * Reads an attributes file: a header row, then one row per test image. The first column names
 * the image — its index in the test set, or (for image-folder datasets, `paths` given) its file
 * path relative to the dataset folder; every other column is a categorical attribute. Every test
 * image needs exactly one row; missing, unknown or repeated rows are an error naming the first few.
 * Returns the attributes in test-image order.
 */
export function parseAttributesCsv(text: string, N: number, paths?: string[]): Attribute[] {
  let rows: string[][];
  try {
    rows = parse(text, { skip_empty_lines: true, trim: true, bom: true, relax_column_count: false }) as string[][];
  } catch (err) {
    throw new AttributesError(`attributes file is not valid CSV: ${(err as Error).message}`);
  }
  if (rows.length < 2) throw new AttributesError('attributes file: expected a header row and one row per test image');
  const [header, ...body] = rows;
  if (header.length < 2) throw new AttributesError(`attributes file: expected an image column and at least one attribute column, got header ${JSON.stringify(header)}`);
  const names = header.slice(1);
  const dup = names.find((n, j) => names.indexOf(n) !== j || n === '');
  if (dup !== undefined) throw new AttributesError(`attributes file: attribute column names must be unique and non-empty, got ${JSON.stringify(dup)}`);
  const byPath = paths ? new Map(paths.map((p, i) => [p, i])) : null;
  const values = names.map(() => new Array<string>(N).fill(''));
  const seen = new Uint8Array(N);
  const unknown: string[] = [], repeated: string[] = [];
  for (const row of body) {
    const id = row[0];
    let i = -1;
    if (byPath?.has(id)) i = byPath.get(id)!;
    else if (/^\d+$/.test(id) && Number(id) < N) i = Number(id);
    if (i < 0) { unknown.push(id); continue; }
    if (seen[i]) { repeated.push(id); continue; }
    seen[i] = 1;
    for (let j = 0; j < names.length; j++) values[j][i] = row[j + 1];
  }
  const first = (xs: string[]) => `${xs.slice(0, 5).map((x) => JSON.stringify(x)).join(', ')}${xs.length > 5 ? `, … (${xs.length} in all)` : ''}`;
  const what = paths ? `a test image index 0…${N - 1} or a test file path relative to the dataset` : `a test image index 0…${N - 1}`;
  if (unknown.length) throw new AttributesError(`attributes file: ${unknown.length} row(s) name no test image (expected ${what}): ${first(unknown)}`);
  if (repeated.length) throw new AttributesError(`attributes file: ${repeated.length} test image(s) have more than one row: ${first(repeated)}`);
  const missing: string[] = [];
  for (let i = 0; i < N && missing.length <= 5; i++) if (!seen[i]) missing.push(paths ? paths[i] : String(i));
  if (missing.length) {
    let count = 0;
    for (let i = 0; i < N; i++) if (!seen[i]) count++;
    throw new AttributesError(`attributes file: ${count} test image(s) have no row: ${missing.slice(0, 5).map((x) => JSON.stringify(x)).join(', ')}${count > 5 ? ', …' : ''}`);
  }
  return names.map((name, j) => ({ name, values: values[j] }));
}
