import { createRoute, z } from '@hono/zod-openapi';
import { effectiveQuotas } from '#shared/domain/quotas';
import type { Tenant } from '#shared/ports/metadata-store';
import type { TenantService } from '#shared/services/tenants';
import { json, newRouter, problemResponses } from '../router';
import { QuotasInputSchema, QuotasPatchSchema, TenantParamSchema, TenantSchema } from '../tenancy-schemas';

const tenantView = (t: Tenant) => ({
  tenantId: t.tenantId,
  name: t.name,
  createdAt: t.createdAt,
  quotas: effectiveQuotas(t.quotas),
});

/** The operator API: tenants and their quotas. Only the operator key reaches it. */
export const adminRoutes = ({ tenants }: { tenants: TenantService }) => {
  const app = newRouter();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/tenants',
      request: {
        body: {
          content: {
            'application/json': {
              schema: z.object({ name: z.string().min(1).max(200), quotas: QuotasInputSchema.optional() }).strict(),
            },
          },
          required: true,
        },
      },
      responses: {
        201: json(
          TenantSchema.extend({ apiKey: z.string(), keyId: z.string() }),
          'The tenant and its first key (all permissions); the key is shown once',
        ),
        ...problemResponses,
      },
    }),
    async (c) => {
      const { name, quotas } = c.req.valid('json');
      const created = await tenants.create(name, quotas ? { quotas } : {});
      return c.json({ ...tenantView(created.tenant), apiKey: created.apiKey, keyId: created.keyId }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants',
      responses: { 200: json(z.object({ tenants: z.array(TenantSchema) }), 'All tenants'), ...problemResponses },
    }),
    async (c) => c.json({ tenants: (await tenants.list()).map(tenantView) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants/{id}',
      request: { params: TenantParamSchema },
      responses: { 200: json(TenantSchema, 'The tenant with its quotas in force'), ...problemResponses },
    }),
    async (c) => c.json(tenantView(await tenants.get(c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/tenants/{id}',
      request: {
        params: TenantParamSchema,
        body: {
          content: { 'application/json': { schema: z.object({ quotas: QuotasPatchSchema }).strict() } },
          required: true,
        },
      },
      responses: {
        200: json(TenantSchema, 'Updated; in force everywhere within the key cache TTL'),
        ...problemResponses,
      },
    }),
    async (c) => {
      const tenant = await tenants.updateQuotas(c.req.valid('param').id, c.req.valid('json').quotas);
      return c.json(tenantView(tenant), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/tenants/{id}',
      request: { params: TenantParamSchema },
      responses: {
        204: { description: 'Deleted: its keys stop working and its data is unreachable; maintenance removes it' },
        ...problemResponses,
      },
    }),
    async (c) => {
      await tenants.delete(c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  return app;
};
