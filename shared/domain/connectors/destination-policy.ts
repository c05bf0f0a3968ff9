// Apart from the checks (destination.ts), so that reading the configuration loads no address parser.

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
