import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';

/** Echoes a safe client request id or makes one, and sets it on the response. */
export const requestId =
  ({ headerName = 'X-Request-Id' } = {}): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const given = c.req.header(headerName);
    const id = given && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
    c.set('requestId', id);
    await next();
    c.header(headerName, id);
  };
