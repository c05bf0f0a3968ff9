import type { MiddlewareHandler } from 'hono';
import { bearerToken } from '#shared/domain/api-keys';
import { forbidden, unauthorized } from '#shared/domain/errors';
import { type Action, isAllowed, type Resource } from '#shared/domain/permissions';
import type { Authenticator } from '#shared/services/auth';
import type { AppEnv } from '../env';

/** Tenant API: the principal (and so the tenant) comes from the key alone. */
export const tenantAuth =
  ({ authenticator }: { authenticator: Authenticator }): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const token = bearerToken(c.req.header('Authorization'));
    if (!token) throw unauthorized();
    c.set('principal', await authenticator.tenant(token));
    await next();
  };

/** Operator API: only the operator key; a tenant key is refused with 403. */
export const operatorAuth =
  ({ authenticator }: { authenticator: Authenticator }): MiddlewareHandler<AppEnv> =>
  async (_c, next) => {
    const token = bearerToken(_c.req.header('Authorization'));
    if (!token) throw unauthorized();
    if (!authenticator.isOperator(token)) {
      // A valid tenant key gets 403 (known key, no permission); anything else 401.
      await authenticator.tenant(token);
      throw forbidden('The operator API needs the operator key.');
    }
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
