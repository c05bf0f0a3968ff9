import * as z from 'zod';
import { MAX_TOKEN_PERMISSIONS, TOKEN_TTL_SECONDS } from '#shared/constants';
import { RESOURCE_PATTERN } from '#shared/domain/permissions';
import type { TokenService } from '#shared/services/tokens';
import { bodyProblemResponses, createRoute, json, newRouter, problemResponses } from '../router';

const TokenPermissionSchema = z
  .object({
    resource: z
      .string()
      .regex(
        RESOURCE_PATTERN,
        'resource is "*", "topic:<pattern>" or "group:<pattern>" (patterns use [a-zA-Z0-9._-] and *).',
      ),
    actions: z
      .array(z.literal('consume', { error: 'A browser token is read-only: its only action is "consume".' }))
      .length(1, 'A browser token is read-only: actions is ["consume"].'),
  })
  .strict();

const CreateTokenSchema = z
  .object({
    permissions: z.array(TokenPermissionSchema).min(1).max(MAX_TOKEN_PERMISSIONS),
    ttlSeconds: z
      .number()
      .int()
      .min(TOKEN_TTL_SECONDS.min)
      .max(TOKEN_TTL_SECONDS.max)
      .default(TOKEN_TTL_SECONDS.default),
  })
  .strict()
  .meta({ id: 'CreateToken' });

/** Browser tokens: minted by any API key, never by a token, never beyond the key. */
export const tokenRoutes = ({ tokens }: { tokens: TokenService }) => {
  const app = newRouter();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/tokens',
      operationId: 'createToken',
      summary: 'Mint a read-only browser token',
      tags: ['Keys'],
      request: { body: { content: { 'application/json': { schema: CreateTokenSchema } }, required: true } },
      responses: {
        201: json(
          z.object({ token: z.string(), expiresAt: z.number().int() }),
          'A read-only token for a browser: `Authorization: Bearer` on read routes, or `?access_token=` on streams',
        ),
        ...bodyProblemResponses,
        ...problemResponses,
      },
    }),
    async (c) => {
      const minted = await tokens.mint(c.get('principal'), c.req.valid('json'));
      return c.json(minted, 201);
    },
  );

  return app;
};
