/**
 * `wrangler dev` as a child process serving a runs directory (seeded into a fresh local R2
 * bucket, as `npm run dev:worker` does), for benchmarks that measure workerd itself: the URL,
 * and the pid of the workerd process that runs the Worker. wrangler dev starts two workerd
 * processes: a proxy that listens on the port asked for, and the one that runs the Worker on a
 * port of its own; the second is found among the child's descendants in /proc (Linux).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { seedLocalR2 } from '../dev/seed-local-r2.ts';
import { listeningPorts } from './isolate-heap.ts';

export interface WranglerDev {
  /** wrangler's dev proxy (a workerd of its own, forwarding each request to the Worker's). */
  url: string;
  /**
   * The Worker's own workerd socket, past wrangler's dev proxy: requests reach Miniflare's entry
   * Worker and the Worker in one process, as on Cloudflare, where no dev proxy stands in front.
   */
  directUrl(): Promise<string>;
  /** The workerd process running the Worker. */
  workerdPid: number;
  close(): Promise<void>;
}

const root = join(import.meta.dirname, '..', '..');

function processes(): { pid: number; ppid: number; comm: string }[] {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const m = /^(\d+) \((.*)\) \S+ (\d+)/.exec(readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (m) out.push({ pid: Number(m[1]), comm: m[2], ppid: Number(m[3]) });
    } catch { /* exited meanwhile */ }
  }
  return out;
}

/** The workerd descendants of `pid` that do not listen on `port` (the proxy's). */
function workerdOf(pid: number, port: number): number[] {
  const all = processes(), tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) if (tree.has(p.ppid) && !tree.has(p.pid)) { tree.add(p.pid); grew = true; }
  }
  return all.filter((p) => tree.has(p.pid) && p.comm === 'workerd').map((p) => p.pid).filter((p) => {
    try { return !readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`entry=127.0.0.1:${port}\0`); } catch { return false; }
  });
}

/**
 * The Worker's own HTTP socket in its workerd: of the ports it listens on (entry, inspector,
 * debug), the one whose /health answers as PIE Lens's does.
 */
async function directUrlOf(pid: number): Promise<string> {
  for (const port of listeningPorts(pid)) {
    const url = `http://127.0.0.1:${port}`;
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
      const body = res.ok ? await res.json() as { status?: unknown } : null;
      if (body && (body.status === 'ok' || body.status === 'degraded')) return url;
    } catch { /* not HTTP, or not the Worker */ }
  }
  throw new Error(`the Worker's workerd (pid ${pid}) has no socket answering /health as PIE Lens does`);
}

/**
 * wrangler configurations of a front Worker bound to `hosts` level-host Workers (PIE_LEVELS,
 * PIE_LEVELS_2… → pie-lens-levels-1, -2…: the same code, each an isolate of its own; `self`: to
 * itself, as wrangler.toml does), all with
 * `vars`, written under .wrangler/ (wrangler resolves paths from a configuration's folder). Front
 * first; `registry`, a dev registry of their own, for sessions started apart.
 */
export function levelHostConfigs(hosts: number | 'self', vars: Record<string, string> = {}): { configs: string[]; names: string[]; registry: string; remove(): void } {
  mkdirSync(join(root, '.wrangler'), { recursive: true });
  const dir = mkdtempSync(join(root, '.wrangler', 'level-hosts-'));
  const toml = readFileSync(join(root, 'wrangler.toml'), 'utf8');
  const base = {
    main: relative(dir, join(root, 'api', 'worker.ts')),
    compatibility_date: /^compatibility_date = "([^"]+)"/m.exec(toml)![1],
    rules: [{ type: 'Text', globs: ['**/swagger-ui-dist/swagger-ui-bundle.js', '**/swagger-ui-dist/swagger-ui.css'], fallthrough: false }],
    r2_buckets: [{ binding: 'RUNS', bucket_name: 'pie-lens-runs' }],
    vars,
  };
  const hostNames = Array.from({ length: hosts === 'self' ? 0 : hosts }, (_, i) => `pie-lens-levels-${i + 1}`);
  const front = {
    ...base, name: 'pie-lens-api',
    services: hosts === 'self' ? [{ binding: 'PIE_LEVELS', service: 'pie-lens-api', entrypoint: 'LevelHost' }]
      : hostNames.map((service, i) => ({ binding: i ? `PIE_LEVELS_${i + 1}` : 'PIE_LEVELS', service, entrypoint: 'LevelHost' })),
  };
  const configs = [front, ...hostNames.map((name) => ({ ...base, name, workers_dev: false }))].map((config) => {
    const path = join(dir, `${config.name}.json`);
    writeFileSync(path, JSON.stringify(config, null, 1));
    return path;
  });
  return { configs, names: [front.name, ...hostNames], registry: join(dir, 'registry'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface WranglerDevOptions {
  /** wrangler configurations: several Workers in one workerd, the first serving the port (default wrangler.toml). */
  configs?: string[];
  /** A local R2 state folder already seeded with the run (seedLocalR2), shared by several sessions and kept. */
  persistTo?: string;
  /**
   * The dev registry through which sessions reach each other's Workers over service bindings
   * (WRANGLER_REGISTRY_PATH): a folder of the caller's, so that other sessions on the machine
   * with the same Worker names are not reached.
   */
  registry?: string;
}

/** `wrangler dev` over a copy of `runsDir` in a fresh local R2 bucket (or the seeded `persistTo`). */
export async function startWranglerDev(runsDir: string, vars: Record<string, string> = {}, opts: WranglerDevOptions = {}): Promise<WranglerDev> {
  const persist = opts.persistTo ?? mkdtempSync(join(tmpdir(), 'pie-wrangler-'));
  if (!opts.persistTo) await seedLocalR2(runsDir, persist, 'pie-lens-runs');
  const port = 18000 + Math.floor(Math.random() * 2000);
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [join(root, 'node_modules/wrangler/bin/wrangler.js'), 'dev', '--port', String(port), '--ip', '127.0.0.1',
    // An inspector port of its own: sessions started at once would all take the default 9229.
    '--inspector-port', String(port + 2000),
    '--persist-to', persist, '--show-interactive-dev-session=false', ...(opts.configs ?? []).flatMap((c) => ['-c', c]),
    ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`])],
  { cwd: root, env: { ...process.env, CI: 'true', ...(opts.registry ? { WRANGLER_REGISTRY_PATH: opts.registry } : {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const close = async () => {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (!opts.persistTo) rmSync(persist, { recursive: true, force: true });
  };
  try {
    for (let i = 0; ; i++) {
      if (i === 240 || child.exitCode !== null) throw new Error(`wrangler dev did not come up:\n${log}`);
      try { if ((await fetch(`${url}/health`)).ok) break; } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 250));
    }
    const pids = workerdOf(child.pid!, port);
    if (pids.length !== 1) throw new Error(`expected one workerd process running the Worker under wrangler dev, found ${pids.length} (${pids.join(', ')})`);
    return { url, directUrl: () => directUrlOf(pids[0]), workerdPid: pids[0], close };
  } catch (err) {
    await close();
    throw err;
  }
}
