import type { Context, MiddlewareHandler } from 'hono';
import { bearerToken } from '#shared/domain/api-keys';
import { isBrowserToken } from '#shared/domain/browser-tokens';
import { forbidden, RunnelError, unauthorized } from '#shared/domain/errors';
import { type Action, isAllowed, type Resource } from '#shared/domain/permissions';
import type { Authenticator } from '#shared/services/auth';
import type { FailedAuthLimiter } from '#shared/services/auth-throttle';
import type { AppEnv } from '../env';

/** The caller's network address, as the host knows it (Lambda's event, the local socket). */
export type ClientAddress = (c: Context<AppEnv>) => string | undefined;

interface AuthDeps {
  authenticator: Authenticator;
  failedAuth: FailedAuthLimiter;
  clientAddress: ClientAddress;
}

/**
 * Runs `authenticate` with the failed-attempt throttle around it: an address out of
 * failed attempts is refused before any storage lookup; every 401 spends one attempt.
 */
const throttled = async <T>(c: Context<AppEnv>, deps: AuthDeps, authenticate: () => Promise<T>): Promise<T> => {
  const address = deps.clientAddress(c);
  deps.failedAuth.check(address);
  try {
    return await authenticate();
  } catch (error) {
    if (error instanceof RunnelError && error.status === 401) deps.failedAuth.recordFailure(address);
    throw error;
  }
};

/** The two routes that answer `Accept: text/event-stream`: a partition and a whole topic. */
const STREAM_PATH = /^\/v1\/topics\/[^/]+(\/partitions\/[^/]+)?\/records\/?$/;

/** Whether the request asks for a Server-Sent Events stream on a stream route. */
export const isStreamRequest = (req: { method: string; path: string; header(name: string): string | undefined }) =>
  req.method === 'GET' && STREAM_PATH.test(req.path) && wantsEventStream(req.header('Accept'));

export const wantsEventStream = (accept: string | undefined) =>
  /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept ?? '');

/**
 * Tenant API: the principal (and so the tenant) comes from the key alone. A browser token
 * may also come as `?access_token=` (EventSource cannot send headers), on stream requests
 * only; the access log never records a query string. A token is read-only.
 */
export const tenantAuth =
  (deps: AuthDeps): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const principal = await throttled(c, deps, async () => {
      let token = bearerToken(c.req.header('Authorization'));
      const fromQuery = c.req.query('access_token');
      if (fromQuery !== undefined) {
        if (!isStreamRequest(c.req)) {
          throw unauthorized('access_token is accepted on stream requests only (Accept: text/event-stream).');
        }
        if (!isBrowserToken(fromQuery)) {
          throw unauthorized('access_token takes a browser token (POST /v1/tokens), never an API key.');
        }
        if (token === undefined) token = fromQuery;
      }
      if (!token) throw unauthorized();
      return deps.authenticator.tenant(token);
    });
    if (principal.token && c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      throw forbidden('A browser token is read-only: it is accepted on read routes only.');
    }
    c.set('principal', principal);
    await next();
  };

/** Operator API: only the operator key; a tenant key is refused with 403. */
export const operatorAuth =
  (deps: AuthDeps): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    await throttled(c, deps, async () => {
      const token = bearerToken(c.req.header('Authorization'));
      if (!token) throw unauthorized();
      if (!(await deps.authenticator.isOperator(token))) {
        // A valid tenant key gets 403 (known key, no permission); anything else 401.
        await deps.authenticator.tenant(token);
        throw forbidden('The operator API needs the operator key.');
      }
    });
    await next();
  };

/** Throws 403 unless the calling key may do `action` on `resource`. */
export const authorize = (
  c: { get(key: 'principal'): AppEnv['Variables']['principal'] },
  resource: Resource,
  action: Action,
) => {
  const principal = c.get('principal');
  if (!isAllowed(principal.permissions, resource, action)) {
    throw forbidden(`This API key may not ${action} ${resource === 'tenant' ? 'the tenant' : resource}.`);
  }
  return principal;
};
