import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';

export type AccessLogSink = (entry: Record<string, unknown>) => void;

/**
 * One structured line per request. It names the caller by tenant and key id (public
 * identifiers) and never records headers, query strings or bodies, so no key or record
 * content reaches the logs.
 */
export const accessLog =
  ({ sink, clock = Date.now }: { sink: AccessLogSink; clock?: () => number }): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const started = clock();
    try {
      await next();
    } finally {
      const principal = c.get('principal');
      sink({
        level: 'info',
        msg: 'request',
        requestId: c.get('requestId'),
        method: c.req.method,
        path: new URL(c.req.url).pathname,
        status: c.res.status,
        durationMs: clock() - started,
        tenantId: principal?.tenantId,
        keyId: principal?.keyId,
        code: c.get('errorCode'),
      });
    }
  };
