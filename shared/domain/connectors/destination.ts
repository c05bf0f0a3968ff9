import ipaddr from 'ipaddr.js';

import type { DestinationPolicy } from './destination-policy';

export { type DestinationPolicy, LOCAL_DESTINATIONS, STRICT_DESTINATIONS } from './destination-policy';

/** Resolves a host name to its addresses (IPv4 and IPv6). Injected so tests control DNS. */
export type Resolver = (hostname: string) => Promise<string[]>;

export class DestinationRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DestinationRefusedError';
  }
}

/** Why this address may not be reached, or undefined when it may. */
export const addressRefusal = (address: string, policy: DestinationPolicy): string | undefined => {
  if (!ipaddr.isValid(address)) return `'${address}' is not an IP address`;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  const range = parsed.range();
  if (range === 'unicast') return undefined;
  if (range === 'loopback' && policy.allowLoopback) return undefined;
  return `${address} is a ${range} address`;
};

/** A bracketed IPv6 literal in a URL's hostname loses its brackets here. */
const bareHost = (hostname: string) => hostname.replace(/^\[(.*)\]$/, '$1');

export interface CheckedDestination {
  url: URL;
  /** The addresses that passed the check; delivery connects to these only. */
  addresses: string[];
}

/**
 * Checks a sink URL and resolves its host. Throws {@link DestinationRefusedError} with a
 * message fit for the user (it names the address class, never a header).
 */
export const checkDestination = async (
  raw: string,
  policy: DestinationPolicy,
  resolve: Resolver,
): Promise<CheckedDestination> => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DestinationRefusedError('url is not a valid absolute URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new DestinationRefusedError('url must use https.');
  }
  if (policy.requireHttps && url.protocol !== 'https:') throw new DestinationRefusedError('url must use https.');
  if (url.username || url.password) {
    throw new DestinationRefusedError('url cannot carry credentials; put them in headers (write-only).');
  }
  const host = bareHost(url.hostname);
  let addresses: string[];
  if (ipaddr.isValid(host)) addresses = [host];
  else {
    try {
      addresses = await resolve(host);
    } catch {
      throw new DestinationRefusedError(`url's host '${host}' does not resolve.`);
    }
    if (addresses.length === 0) throw new DestinationRefusedError(`url's host '${host}' does not resolve.`);
  }
  for (const address of addresses) {
    const refusal = addressRefusal(address, policy);
    if (refusal) {
      throw new DestinationRefusedError(
        host === address
          ? `url is refused: ${refusal}; only public destinations are allowed.`
          : `url is refused: '${host}' resolves to ${refusal}; only public destinations are allowed.`,
      );
    }
  }
  return { url, addresses };
};
