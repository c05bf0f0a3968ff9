import type { TenantPrincipal } from '#shared/services/auth';

/** Hono context variables set by the middleware. */
export interface AppEnv {
  Variables: {
    principal: TenantPrincipal;
    requestId: string;
    /** The problem code of a failed request, for the access log. */
    errorCode: string | undefined;
  };
}
