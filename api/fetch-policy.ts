import ipaddr from 'ipaddr.js';

/**
 * Where the API may send a request on a caller's behalf (task images of the Label Studio
 * backend). Runtime-neutral: the Node entry adds a connect-time check of resolved addresses
 * (api/node-fetch.ts); here only what the URL itself says is checked.
 */
export interface FetchPolicy {
  /**
   * Origins requests may go to: exact origins (`https://images.example.com:8443`) or a scheme and
   * a subdomain wildcard (`https://*.s3.amazonaws.com`, which does not match the bare domain).
   * LABEL_STUDIO_URL's origin plus PIE_FETCH_ORIGINS. Empty: nothing is fetched.
   */
  allowedOrigins: string[];
  /**
   * Allow destinations that are loopback, private, link-local (cloud metadata), CGNAT, unique-local,
   * unspecified, multicast or reserved addresses, and `localhost` names (PIE_FETCH_ALLOW_PRIVATE).
   * Default false: refused even when the origin is allowed.
   */
  allowPrivate: boolean;
}

export class FetchRefused extends Error {
  override name = 'FetchRefused';
}

/** Names that resolve to the machine itself or to a cloud metadata service. */
const SPECIAL_NAMES = /(^|\.)(localhost|localdomain|internal|local|home\.arpa)$|^metadata(\.google\.internal)?$|^instance-data$/;

/**
 * Why an address (IPv4 or IPv6, any form ipaddr.js parses) is not a public unicast one, or null
 * when it is. IPv4-mapped, NAT64 (64:ff9b::/96), 6to4 and Teredo IPv6 addresses all count as
 * special: each reaches an IPv4 address the check would otherwise not see.
 */
export function specialAddress(address: string): string | null {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address.replace(/^\[|\]$/g, ''));
  } catch {
    return null;
  }
  const range = ip.range();
  return range === 'unicast' ? null : `${address} is a ${range} address`;
}

/** Why a URL's host is a special one (an address as above, or a local name), or null. */
export function specialHost(hostname: string): string | null {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host.startsWith('[') || ipaddr.isValid(host)) return specialAddress(host);
  if (SPECIAL_NAMES.test(host)) return `${host} is a local name`;
  return null;
}

function matchesOrigin(url: URL, pattern: string): boolean {
  const m = /^(https?):\/\/\*\.(.+)$/i.exec(pattern);
  if (!m) return url.origin === normalOrigin(pattern);
  if (url.protocol !== `${m[1].toLowerCase()}:`) return false;
  const domain = m[2].toLowerCase().replace(/:\d+$/, '');
  const port = /:(\d+)$/.exec(m[2])?.[1] ?? '';
  return url.hostname.endsWith(`.${domain}`) && url.port === port;
}

function normalOrigin(origin: string): string | null {
  try { return new URL(origin).origin; } catch { return null; }
}

/** Checks one setting value; throws naming the bad entry (at start-up, not per request). */
export function parseAllowedOrigins(list: string[]): string[] {
  for (const o of list) {
    const wildcard = /^https?:\/\/\*\.[a-z0-9.-]+(:\d+)?$/i.test(o);
    if (!wildcard && (normalOrigin(o) === null || normalOrigin(o) === 'null' || !/^https?:/i.test(o))) {
      throw new RangeError(`PIE_FETCH_ORIGINS: '${o}' is not an http(s) origin (https://host[:port] or https://*.domain)`);
    }
  }
  return list;
}

/**
 * Throws FetchRefused unless the URL is http(s), carries no credentials, its origin is allowed
 * and its host is not special (unless private destinations are allowed). The URL parser has
 * already turned decimal, hex and octal IPv4 forms (http://2130706433/, http://0x7f.1/) and
 * IPv4-mapped IPv6 into their canonical form, so these are checked as the address they are.
 */
export function checkFetchUrl(url: URL, policy: FetchPolicy): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FetchRefused(`${url.protocol} URLs are not fetched`);
  if (url.username || url.password) throw new FetchRefused('URLs with credentials are not fetched');
  if (!policy.allowedOrigins.some((o) => matchesOrigin(url, o))) {
    throw new FetchRefused(`${url.origin} is not an allowed origin (LABEL_STUDIO_URL's origin and PIE_FETCH_ORIGINS)`);
  }
  const special = policy.allowPrivate ? null : specialHost(url.hostname);
  if (special) throw new FetchRefused(`${special} (set PIE_FETCH_ALLOW_PRIVATE=true to allow it)`);
}
