import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CheckedDestination, Resolver } from '#shared/domain/connectors/destination';

/** The system resolver: every address of the name, IPv4 and IPv6. */
export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

export interface DeliveryResponse {
  status: number;
  retryAfter: string | undefined;
}

/** The receiver did not answer in time, refused the connection, or the connection broke. */
export class DeliveryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeliveryError';
  }
}

/** One POST, with the connection pinned to `addresses` (those that passed the SSRF check). */
export type HttpPost = (
  destination: CheckedDestination,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
) => Promise<DeliveryResponse>;

/**
 * POSTs over node:http(s). The `lookup` hook answers with the checked addresses instead
 * of asking DNS again, so the connection goes where the check looked (no DNS rebinding);
 * TLS still verifies the certificate against the URL's host name. Redirects are not
 * followed: a 3xx is an answer like any other.
 */
export const nodeHttpPost: HttpPost = (destination, headers, body, timeoutMs) =>
  new Promise<DeliveryResponse>((resolve, reject) => {
    const { url, addresses } = destination;
    const pinned: LookupFunction = (_hostname, options, callback) => {
      const family = (address: string) => (address.includes(':') ? 6 : 4);
      if (options.all) {
        callback(
          null,
          addresses.map((address) => ({ address, family: family(address) })),
        );
      } else {
        const address = addresses[0] as string;
        callback(null, address, family(address));
      }
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'runnel-http-sink',
        },
        lookup: pinned,
        timeout: timeoutMs,
      },
      (res) => {
        clearTimeout(deadline);
        // The status is the answer: the body is not read, so a receiver cannot hold the worker by trickling one.
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after']?.toString() });
        res.destroy();
      },
    );
    // The whole attempt, not only an idle socket, ends after timeoutMs.
    const deadline = setTimeout(() => req.destroy(new DeliveryError(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('timeout', () => req.destroy(new DeliveryError(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => {
      clearTimeout(deadline);
      reject(error instanceof DeliveryError ? error : new DeliveryError(`connection failed (${errorCode(error)})`));
    });
    req.end(body);
  });

/** The error's code (ECONNREFUSED, …) without its message, which may echo the address. */
const errorCode = (error: unknown) =>
  error && typeof error === 'object' && 'code' in error ? String((error as { code: unknown }).code) : 'network error';
