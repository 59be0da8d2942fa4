/**
 * Checks that imports point down only:
 *
 *     lib/  ←  node/  ←  trainer/, api/  ←  cli/, bin/ (the `pie` command), test/, scripts/, infra/
 *
 * - lib/ imports only lib/ and no Node-only module (node:*, fs…, tfjs-node, the AWS SDK…): it runs in Workers.
 * - node/ (the Node adapters: file and S3 stores, retries, the HTTP listener) imports lib/ and node/.
 * - trainer/ and api/ import lib/, node/ and themselves, never each other.
 * - What the Worker bundles (everything api/worker.ts reaches) imports nothing Node-only and nothing from node/.
 * Every import counts: static, `export … from`, dynamic `import()`, type-only, and test files.
 *
 *     npx tsx scripts/check-imports.ts    # prints each upward edge; exit status 1 when there is one
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** Which top-level folders each layer may import from (a folder not named here: anything). */
const ALLOWED: Record<string, readonly string[]> = {
  lib: ['lib'],
  node: ['lib', 'node'],
  trainer: ['lib', 'node', 'trainer'],
  api: ['lib', 'node', 'api'],
};
const CHECKED = ['lib', 'node', 'trainer', 'api', 'cli', 'bin', 'test', 'scripts', 'infra'];
/** Packages that need Node (or are Node-side tooling), on top of Node's built-in modules. */
const NODE_ONLY_PACKAGES = [
  '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@hono/node-server', '@aws-sdk/', 'cli-progress', 'commander', 'tsx', 's3rver', 'miniflare',
];
const WORKER_ENTRY = 'api/worker.ts';

export interface Edge { from: string; to: string; why: string }

function isNodeOnly(spec: string): boolean {
  const bare = spec.startsWith('node:') ? spec.slice(5) : spec;
  if (builtinModules.includes(bare) || builtinModules.includes(bare.split('/')[0])) return true;
  return NODE_ONLY_PACKAGES.some((p) => (p.endsWith('/') ? spec.startsWith(p) : spec === p || spec.startsWith(p + '/')));
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every module specifier a file names: imports, re-exports, dynamic imports (TypeScript's own scanner). */
export function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

const layerOf = (rel: string) => rel.split(/[\\/]/)[0];

/** The upward edges under `root` (paths relative to it, with forward slashes). */
export function upwardEdges(root: string): Edge[] {
  const edges: Edge[] = [];
  const graph = new Map<string, { local: string[]; bare: string[] }>();
  for (const layer of CHECKED) {
    for (const file of sourceFiles(join(root, layer))) {
      const from = relative(root, file).split(sep).join('/');
      const local: string[] = [], bare: string[] = [];
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.')) local.push(relative(root, resolve(dirname(file), spec)).split(sep).join('/'));
        else bare.push(spec);
      }
      graph.set(from, { local, bare });
      const allowed = ALLOWED[layerOf(from)];
      if (!allowed) continue;
      for (const to of local) {
        if (to.startsWith('..')) edges.push({ from, to, why: 'imports from outside the repository' });
        else if (!allowed.includes(layerOf(to))) edges.push({ from, to, why: `${layerOf(from)}/ may import only ${allowed.map((l) => l + '/').join(', ')}` });
      }
      if (layerOf(from) === 'lib') {
        for (const spec of bare) if (isNodeOnly(spec)) edges.push({ from, to: spec, why: 'lib/ imports a Node-only module' });
      }
    }
  }
  // The Worker: everything its entry reaches, transitively.
  const seen = new Set<string>();
  const queue = graph.has(WORKER_ENTRY) ? [WORKER_ENTRY] : [];
  while (queue.length) {
    const f = queue.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const node = graph.get(f);
    if (!node) continue;
    for (const spec of node.bare) if (isNodeOnly(spec)) edges.push({ from: f, to: spec, why: `reached from ${WORKER_ENTRY}: a Node-only module in the Worker` });
    for (const to of node.local) {
      if (layerOf(to) === 'node') edges.push({ from: f, to, why: `reached from ${WORKER_ENTRY}: a Node adapter in the Worker` });
      queue.push(to);
    }
  }
  return edges;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const root = resolve(import.meta.dirname, '..');
  const edges = upwardEdges(root);
  for (const e of edges) console.error(`${e.from} → ${e.to}: ${e.why}`);
  if (edges.length) {
    console.error(`check-imports: ${edges.length} import(s) point the wrong way (see scripts/check-imports.ts)`);
    process.exitCode = 1;
  } else {
    console.log(`check-imports: ${CHECKED.filter((l) => existsSync(join(root, l))).join(', ')}: no upward import`);
  }
}
