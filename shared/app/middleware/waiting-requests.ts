import type { MiddlewareHandler } from 'hono';
import type { WaiterQuota } from '#shared/services/waiter-quota';
import type { AppEnv } from '../env';

/**
 * Counts a tenant's long polls (record fetches with `waitMs` > 0, partition or group)
 * against its WaiterQuota for the whole request, from before its first storage read:
 * past the quota the request is 429 at no storage cost. After authentication. Streams
 * (`Accept: text/event-stream`) count themselves for as long as they stay open.
 */
export const waitingRequests =
  (quota: WaiterQuota): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const waitMs = Number(c.req.query('waitMs') ?? 0);
    if (c.req.method !== 'GET' || !c.req.path.endsWith('/records') || !(waitMs > 0)) return next();
    // A stream takes its place itself and keeps it until it ends (routes/streams.ts).
    if (c.req.header('Accept')?.includes('text/event-stream')) return next();
    const leave = quota.enter(c.get('principal').tenantId);
    try {
      await next();
    } finally {
      leave();
    }
  };
