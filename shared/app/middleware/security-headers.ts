import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';

/**
 * Headers every response carries. `nosniff` stops a browser from guessing a type other
 * than the one declared; API answers (which may carry a secret, a record or a key) are
 * never stored by a cache; a 401 names the scheme it wants, as RFC 9110 asks.
 */
export const securityHeaders =
  ({
    noStorePrefixes = ['/v1/', '/admin/'],
  }: {
    noStorePrefixes?: readonly string[];
  } = {}): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    const path = new URL(c.req.url).pathname;
    if (noStorePrefixes.some((prefix) => path.startsWith(prefix)) && !c.res.headers.has('Cache-Control')) {
      c.header('Cache-Control', 'no-store');
    }
    if (c.res.status === 401) c.header('WWW-Authenticate', 'Bearer realm="runnel"');
  };
