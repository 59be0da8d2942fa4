/**
 * The Node HTTP listener for any fetch handler (a Hono app's `fetch`), with @hono/node-server:
 * binds, waits until it listens, and says where. What is served is the caller's business
 * (api/node.ts serves the PIE Lens API).
 */
import { serve, type ServerType } from '@hono/node-server';
import { ServerResponse, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The header a handler sets to choose the HTTP reason phrase (the API's /ml/* refusals do:
 * Label Studio shows an ML backend's reason phrase, api/routes/label-studio.ts). A fetch
 * Response's statusText does not reach the wire through @hono/node-server, which writes only the
 * status code, so this response class takes the phrase from the header.
 */
export const REASON_HEADER = 'x-pie-reason';

class ReasonResponse<Req extends IncomingMessage = IncomingMessage> extends ServerResponse<Req> {
  override writeHead(statusCode: number, ...rest: unknown[]): this {
    const headers = rest.length === 1 && rest[0] && typeof rest[0] === 'object' ? rest[0] as OutgoingHttpHeaders : null;
    const reason = headers?.[REASON_HEADER];
    // Only printable ASCII: anything else would make Node refuse the status line.
    if (typeof reason === 'string' && /^[\x20-\x7e]{1,512}$/.test(reason)) return super.writeHead(statusCode, reason, headers!);
    return super.writeHead(statusCode, ...(rest as [OutgoingHttpHeaders]));
  }
}

/** How long an idle keep-alive connection stays open (see listen). */
export const KEEP_ALIVE_MS = 65_000;

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
    const s = serve({ fetch, port: opts.port ?? 8787, hostname, serverOptions: { ServerResponse: ReasonResponse } }, () => resolve(s));
    s.once('error', reject);
  });
  // Idle keep-alive connections stay open 65 s, not Node's 5 s: longer than the idle timeout of
  // the usual load balancers and proxies (60 s), which otherwise reuse a connection just as the
  // server closes it and answer 502, and longer than a client's own pauses between requests.
  (server as import('node:http').Server).keepAliveTimeout = KEEP_ALIVE_MS;
  const { port } = server.address() as AddressInfo;
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  return {
    url: `http://${host}:${port}`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
