import * as v from 'valibot';
import type { KeyService } from '#shared/services/keys';
import { authorize } from '../middleware/auth';
import { bodyProblemResponses, createRoute, json, newRouter, problemResponses } from '../router';
import { CreateKeySchema, KeyParamSchema, KeySchema } from '../tenancy-schemas';

/** The tenant's own API keys. Every call needs `manage` on `*` (resource `tenant`). */
export const keyRoutes = ({ keys }: { keys: KeyService }) => {
  const app = newRouter();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/keys',
      operationId: 'createKey',
      summary: 'Create an API key',
      tags: ['Keys'],
      request: { body: { content: { 'application/json': { schema: CreateKeySchema } }, required: true } },
      responses: {
        201: json(
          v.object({ ...KeySchema.entries, apiKey: v.string() }),
          'The key; `apiKey` is shown this once, only its hash is stored',
        ),
        ...bodyProblemResponses,
        ...problemResponses,
      },
    }),
    async (c) => {
      const principal = authorize(c, 'tenant', 'manage');
      const created = await keys.create(principal, c.req.valid('json'));
      return c.json(created, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/keys',
      operationId: 'listKeys',
      summary: 'List the tenant’s API keys',
      tags: ['Keys'],
      responses: {
        200: json(v.object({ keys: v.array(KeySchema) }), 'The tenant’s keys, without secrets'),
        ...problemResponses,
      },
    }),
    async (c) => {
      const { tenantId } = authorize(c, 'tenant', 'manage');
      const listed = await keys.list(tenantId);
      return c.json({ keys: listed.sort((a, b) => a.createdAt - b.createdAt || a.keyId.localeCompare(b.keyId)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/keys/{keyId}',
      operationId: 'revokeKey',
      summary: 'Revoke an API key',
      tags: ['Keys'],
      request: { params: KeyParamSchema },
      responses: {
        204: { description: 'Revoked: refused at once here and within seconds on every instance' },
        ...problemResponses,
      },
    }),
    async (c) => {
      const principal = authorize(c, 'tenant', 'manage');
      await keys.revoke(principal, c.req.valid('param').keyId);
      return c.body(null, 204);
    },
  );

  return app;
};
