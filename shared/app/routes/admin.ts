import { createRoute, z } from '@hono/zod-openapi';
import type { Tenant } from '#shared/ports/metadata-store';
import type { TenantService } from '#shared/services/tenants';
import { newRouter, problemResponses } from '../router';

const TenantSchema = z
  .object({ tenantId: z.string(), name: z.string(), createdAt: z.number().int() })
  .openapi('Tenant');

const tenantView = (t: Tenant) => ({ tenantId: t.tenantId, name: t.name, createdAt: t.createdAt });

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
              schema: z.object({ name: z.string().min(1).max(200) }).strict(),
            },
          },
          required: true,
        },
      },
      responses: {
        201: {
          content: {
            'application/json': {
              schema: z.object({ tenantId: z.string(), name: z.string(), apiKey: z.string(), keyId: z.string() }),
            },
          },
          description: 'The tenant and its first key (all permissions); the key is shown once',
        },
        ...problemResponses,
      },
    }),
    async (c) => {
      const { name } = c.req.valid('json');
      const created = await tenants.create(name);
      return c.json({ tenantId: created.tenant.tenantId, name, apiKey: created.apiKey, keyId: created.keyId }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants',
      responses: {
        200: {
          content: { 'application/json': { schema: z.object({ tenants: z.array(TenantSchema) }) } },
          description: 'All tenants',
        },
        ...problemResponses,
      },
    }),
    async (c) => c.json({ tenants: (await tenants.list()).map(tenantView) }, 200),
  );

  return app;
};
