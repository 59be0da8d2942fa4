/**
 * Node's fetch for task images, with the address check of api/fetch-policy.ts applied to what a
 * host name resolves to, at connect time: a name in an allowed origin that resolves (or is
 * rebound) to a loopback, private or metadata address is refused after the lookup and before
 * any connection, so the check and the connection use the same address. Workers cannot reach
 * private addresses of the operator's network, so they need no such step.
 */
import { lookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { specialAddress } from './fetch-policy.ts';

type Lookup = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

export function guardedFetch(opts: { allowPrivate: boolean; lookup?: Lookup }): typeof fetch {
  if (opts.allowPrivate) return (input, init) => fetch(input, init);
  const resolve: Lookup = opts.lookup ?? ((host, o, cb) => lookup(host, o, cb));
  const agent = new Agent({
    connect: {
      lookup: ((hostname, options, callback) => {
        resolve(hostname, { ...options, all: true } as LookupAllOptions, (err, addresses) => {
          if (err) return callback(err, '');
          const bad = addresses.map((a) => specialAddress(a.address)).find(Boolean);
          if (bad) return callback(Object.assign(new Error(`${hostname} resolves to a refused address: ${bad}`), { code: 'EREFUSEDADDRESS' }), '');
          if (options.all) return callback(null, addresses);
          return callback(null, addresses[0].address, addresses[0].family);
        });
      }) as LookupFunction,
    },
  });
  return ((input: string | URL | Request, init?: RequestInit) => undiciFetch(input as string, { ...init, dispatcher: agent } as Parameters<typeof undiciFetch>[1])) as unknown as typeof fetch;
}
