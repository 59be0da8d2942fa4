/**
 * The memory of one Worker's isolate inside a workerd process, from V8 itself: workerd's
 * inspector (the devtools protocol; `wrangler dev` starts workerd with one on a port of its own
 * choosing) answers `Runtime.getHeapUsage` per Worker. A process's resident memory counts every
 * isolate in it and workerd's own services (the local R2 simulator among them); an isolate's heap
 * is what a Worker's 128 MB limit is about. Linux only: the port is found among the process's
 * listening sockets in /proc.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { WebSocket } from 'undici';

export interface HeapUsage {
  /** V8 heap in use and reserved, bytes. */
  usedSize: number;
  totalSize: number;
  /** Memory the embedder (workerd) accounts to the isolate beside the V8 heap. */
  embedderHeapUsedSize: number;
  /** Contents of ArrayBuffers (typed arrays' and WebAssembly memories' bytes). */
  backingStorageSize: number;
}

/** TCP ports `pid` listens on (IPv4 and IPv6). */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch { /* closed meanwhile */ }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9])) ports.push(parseInt(f[1].split(':').pop()!, 16)); // 0A: LISTEN
    }
  }
  return ports;
}

/** The inspector port of a workerd process (the listening port whose /json lists Workers). */
export async function inspectorPort(workerdPid: number): Promise<number> {
  for (const port of listeningPorts(workerdPid)) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/json`, { signal: AbortSignal.timeout(2000) });
      const list = await r.json() as { id?: string }[];
      if (Array.isArray(list) && list.some((t) => t.id?.startsWith('core:user:'))) return port;
    } catch { /* not the inspector */ }
  }
  throw new Error(`workerd ${workerdPid} has no inspector among its listening ports`);
}

export interface IsolateInspector {
  /** The isolate's heap now, garbage not yet collected included (workerd answers no HeapProfiler.collectGarbage). */
  heap(): Promise<HeapUsage>;
  close(): void;
}

/**
 * A devtools session with the Worker named `worker` in the workerd whose inspector is on `port`.
 * Now and then a fresh session of workerd's never answers; a call that gets no answer within
 * `timeoutMs` is tried again on a new session (three sessions at most).
 */
export async function inspectIsolate(port: number, worker: string, timeoutMs = 5000): Promise<IsolateInspector> {
  let ws: WebSocket | null = null;
  let next = 0;
  const pending = new Map<number, (result: Record<string, unknown>) => void>();
  const connect = async () => {
    ws?.close();
    const s = new WebSocket(`ws://127.0.0.1:${port}/core:user:${worker}`);
    await new Promise<void>((resolve, reject) => {
      s.onopen = () => resolve();
      s.onerror = () => reject(new Error(`no inspector session for Worker ${worker} on port ${port}`));
    });
    s.onmessage = (e) => {
      const m = JSON.parse(String(e.data)) as { id?: number; result?: Record<string, unknown> };
      if (m.id !== undefined) pending.get(m.id)?.(m.result ?? {});
    };
    ws = s;
  };
  const once = (method: string) => new Promise<Record<string, unknown> | null>((resolve) => {
    const id = ++next;
    const timer = setTimeout(() => { pending.delete(id); resolve(null); }, timeoutMs);
    pending.set(id, (r) => { clearTimeout(timer); pending.delete(id); resolve(r); });
    ws!.send(JSON.stringify({ id, method }));
  });
  const call = async (method: string) => {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt) await connect();
      const r = await once(method);
      if (r) return r;
    }
    throw new Error(`inspector: ${method} on ${worker} got no answer on three sessions`);
  };
  await connect();
  return {
    heap: async () => await call('Runtime.getHeapUsage') as unknown as HeapUsage,
    close: () => ws?.close(),
  };
}
