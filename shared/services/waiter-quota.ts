import { RunnelError } from '#shared/domain/errors';

/** Requests of one tenant that may wait at once on one instance (long polls and streams together). */
export const DEFAULT_WAITERS_PER_TENANT = 100;

/** How long a refused waiter is told to wait before trying again. */
const RETRY_AFTER_MS = 1000;

/**
 * Bounds the requests of one tenant that hold a connection open waiting for records: long
 * polls (fetch and group fetch with `waitMs`, counted for the whole request by
 * app/middleware/waiting-requests.ts) and streams count together. `enter` either
 * admits the waiter and returns its release (call it exactly once, when the wait ends,
 * whatever the outcome) or throws 429 `throttled` with `Retry-After`, naming the quota.
 * Per process: locally that is the whole server; in Lambda see docs/security.md.
 *
 * A stream calls it once when it opens and releases when the stream closes:
 *   const leave = services.waiterQuota.enter(principal.tenantId);
 *   try { … stream … } finally { leave(); }
 */
export class WaiterQuota {
  private readonly waiting = new Map<string, number>();

  constructor(readonly perTenant: number = DEFAULT_WAITERS_PER_TENANT) {
    if (!(perTenant >= 1)) throw new Error('WaiterQuota: perTenant ≥ 1 is required');
  }

  /** The tenant's waiters admitted and not yet released. */
  count(tenantId: string): number {
    return this.waiting.get(tenantId) ?? 0;
  }

  enter(tenantId: string): () => void {
    const now = this.count(tenantId);
    if (now >= this.perTenant) {
      throw new RunnelError(
        'throttled',
        `At most ${this.perTenant} long polls and streams of a tenant wait at once; retry after the Retry-After delay, or poll without waitMs.`,
        { retryAfterMs: RETRY_AFTER_MS, quota: 'concurrentWaiters', limit: this.perTenant },
      );
    }
    this.waiting.set(tenantId, now + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.count(tenantId) - 1;
      if (left > 0) this.waiting.set(tenantId, left);
      else this.waiting.delete(tenantId);
    };
  }
}
