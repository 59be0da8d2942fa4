/**
 * The Node HTTP listener for any fetch handler (a Hono app's `fetch`), with @hono/node-server:
 * binds, waits until it listens, and says where. What is served is the caller's business
 * (api/node.ts serves the PIE Lens API).
 */
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';

export type FetchHandler = (request: Request) => Response | Promise<Response>;

export interface ListenOptions {
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1 (loopback only). */
  hostname?: string;
}

export interface Listening {
  /** http://host:port, with an IPv6 host in brackets. */
  url: string;
  server: ServerType;
  close(): Promise<void>;
}

export async function listen(fetch: FetchHandler, opts: ListenOptions = {}): Promise<Listening> {
  const hostname = opts.hostname ?? '127.0.0.1';
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch, port: opts.port ?? 8787, hostname }, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  return {
    url: `http://${host}:${port}`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
