import { type BoundedCache, boundedCache } from '#shared/domain/bounded-cache';
import { RunnelError } from '#shared/domain/errors';

export interface FailedAuthLimiterOptions {
  /** Failed attempts an address may make at once before it is throttled. @default 20 */
  burst?: number;
  /** Failed attempts per second an address earns back. @default 1 */
  refillPerSecond?: number;
  /** Addresses remembered (least recently seen forgotten first). @default 10_000 */
  maxAddresses?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Failed authentication costs a storage lookup, so guessing keys is throttled per client
 * address: a token bucket of failures, checked before the lookup. An address with no
 * failures left is answered 429 with `Retry-After` at no storage cost; successful requests
 * never spend a token. Per function instance; the bound on memory is `maxAddresses`.
 */
export class FailedAuthLimiter {
  private readonly buckets: BoundedCache<string, Bucket>;
  private readonly burst: number;
  private readonly refillPerMs: number;

  constructor(
    private readonly clock: () => number,
    { burst = 20, refillPerSecond = 1, maxAddresses = 10_000 }: FailedAuthLimiterOptions = {},
  ) {
    if (!(burst >= 1) || !(refillPerSecond > 0) || !(maxAddresses >= 1)) {
      throw new Error('FailedAuthLimiter: burst ≥ 1, refillPerSecond > 0 and maxAddresses ≥ 1 are required');
    }
    this.burst = burst;
    this.refillPerMs = refillPerSecond / 1000;
    this.buckets = boundedCache(maxAddresses);
  }

  private tokens(address: string, now: number): number {
    const bucket = this.buckets.get(address);
    if (!bucket) return this.burst;
    return Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.refillPerMs);
  }

  /** Throws 429 when the address has no failed attempt left. */
  check(address: string | undefined): void {
    if (address === undefined) return;
    const now = this.clock();
    const tokens = this.tokens(address, now);
    if (tokens >= 1) return;
    const retryAfterMs = Math.max(1000, Math.ceil((1 - tokens) / this.refillPerMs));
    throw new RunnelError(
      'throttled',
      'Too many failed authentication attempts from this address; retry after the Retry-After delay.',
      { retryAfterMs },
    );
  }

  recordFailure(address: string | undefined): void {
    if (address === undefined) return;
    const now = this.clock();
    this.buckets.set(address, { tokens: Math.max(0, this.tokens(address, now) - 1), at: now });
  }
}
