import ipaddr from 'ipaddr.js';

/**
 * Where an http-sink may deliver (SSRF protection). In AWS only public unicast addresses
 * over https are allowed: no private, loopback, link-local (the instance metadata service
 * at 169.254.169.254 included), carrier-grade NAT, multicast, reserved, or IPv6 ranges
 * that embed an IPv4 address (NAT64, 6to4, Teredo, IPv4-mapped). A host name is checked by
 * every address it resolves to, and delivery connects to exactly the addresses that were
 * checked, so a DNS answer that changes between check and connect cannot get through.
 */
export interface DestinationPolicy {
  /** Allow 127.0.0.0/8 and ::1 (local mode, so tests can run a receiver on this machine). */
  allowLoopback: boolean;
  /** Refuse plain http. */
  requireHttps: boolean;
}

/** AWS: public https destinations only. */
export const STRICT_DESTINATIONS: DestinationPolicy = { allowLoopback: false, requireHttps: true };
/** Local mode: loopback and plain http are allowed too; other private ranges are not. */
export const LOCAL_DESTINATIONS: DestinationPolicy = { allowLoopback: true, requireHttps: false };

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
