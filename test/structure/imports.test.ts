import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importsOf, upwardEdges } from '../../scripts/check-imports.ts';

const root = join(import.meta.dirname, '..', '..');

describe('the import graph (scripts/check-imports.ts)', () => {
  it('has no upward edge in this repository', () => {
    expect(upwardEdges(root)).toEqual([]);
  });

  describe('flags each kind of upward edge in a planted tree', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pie-imports-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const files: Record<string, string> = {
      'lib/ok.ts': "import { x } from './other.ts';\nexport const y = x;",
      'lib/other.ts': 'export const x = 1;',
      'lib/fs.ts': "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;",
      'lib/bare-fs.ts': "export { readFile } from 'fs/promises';",
      'lib/up.ts': "export type { S } from '../node/store.ts';",
      'node/store.ts': "import { x } from '../lib/ok.ts';\nexport type S = typeof x;",
      'node/up.ts': "export const load = () => import('../trainer/t.ts');",
      'trainer/t.ts': "import { S3Client } from '@aws-sdk/client-s3';\nimport type { S } from '../node/store.ts';\nexport const t = S3Client;",
      'trainer/to-api.test.ts': "import { a } from '../api/a.ts';\nexport const b = a;",
      'api/a.ts': "import { t } from '../trainer/t.ts';\nexport const a = t;",
      'api/worker.ts': "import { w } from './w.ts';\nexport default w;",
      'api/w.ts': "import type { S } from '../node/store.ts';\nimport { Buffer } from 'node:buffer';\nexport const w = Buffer;",
      'cli/pie.ts': "import '../api/a.ts';\nimport '../trainer/t.ts';",
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, dirname(path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const edges = upwardEdges(dir).map((e) => `${e.from} → ${e.to}`);

    it.each([
      'lib/fs.ts → node:fs', 'lib/bare-fs.ts → fs/promises', 'lib/up.ts → node/store.ts', 'node/up.ts → trainer/t.ts',
      'trainer/to-api.test.ts → api/a.ts', 'api/a.ts → trainer/t.ts', 'api/w.ts → node/store.ts', 'api/w.ts → node:buffer',
    ])('%s', (edge) => {
      expect(edges).toContain(edge);
    });

    it('and nothing else (downward edges, cli/ on top, the AWS SDK in trainer/)', () => {
      expect(edges).toHaveLength(8);
    });
  });

  it('reads static, re-export, dynamic and type-only imports', () => {
    expect(importsOf("import a from 'a';\nexport { b } from './b.ts';\nconst c = await import('./c.ts');\nimport type { D } from 'd';"))
      .toEqual(['a', './b.ts', './c.ts', 'd']);
  });
});
