import * as v from 'valibot';
import { effectiveQuotas } from '#shared/domain/quotas';
import type { Tenant } from '#shared/ports/metadata-store';
import type { TenantService } from '#shared/services/tenants';
import { bodyProblemResponses, createRoute, json, newRouter, OPERATOR_KEY, problemResponses } from '../router';
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
      operationId: 'createTenant',
      summary: 'Create a tenant and its first key (operator)',
      tags: ['Tenants'],
      security: OPERATOR_KEY,
      request: {
        body: {
          content: {
            'application/json': {
              schema: v.strictObject({
                name: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
                quotas: v.optional(QuotasInputSchema),
              }),
            },
          },
          required: true,
        },
      },
      responses: {
        201: json(
          v.object({ ...TenantSchema.entries, apiKey: v.string(), keyId: v.string() }),
          'The tenant and its first key (all permissions); the key is shown once',
        ),
        ...bodyProblemResponses,
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
      operationId: 'listTenants',
      summary: 'List tenants (operator)',
      tags: ['Tenants'],
      security: OPERATOR_KEY,
      responses: { 200: json(v.object({ tenants: v.array(TenantSchema) }), 'All tenants'), ...problemResponses },
    }),
    async (c) => c.json({ tenants: (await tenants.list()).map(tenantView) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants/{id}',
      operationId: 'getTenant',
      summary: 'Get a tenant with its quotas in force (operator)',
      tags: ['Tenants'],
      security: OPERATOR_KEY,
      request: { params: TenantParamSchema },
      responses: { 200: json(TenantSchema, 'The tenant with its quotas in force'), ...problemResponses },
    }),
    async (c) => c.json(tenantView(await tenants.get(c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/tenants/{id}',
      operationId: 'updateTenantQuotas',
      summary: 'Change a tenant’s quotas (operator)',
      tags: ['Tenants'],
      security: OPERATOR_KEY,
      request: {
        params: TenantParamSchema,
        body: {
          content: { 'application/json': { schema: v.strictObject({ quotas: QuotasPatchSchema }) } },
          required: true,
        },
      },
      responses: {
        200: json(TenantSchema, 'Updated; in force everywhere within the key cache TTL'),
        ...bodyProblemResponses,
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
      operationId: 'deleteTenant',
      summary: 'Delete a tenant (operator)',
      tags: ['Tenants'],
      security: OPERATOR_KEY,
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
