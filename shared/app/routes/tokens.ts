import * as v from 'valibot';
import { MAX_TOKEN_PERMISSIONS, TOKEN_TTL_SECONDS } from '#shared/constants';
import { RESOURCE_PATTERN } from '#shared/domain/permissions';
import { int } from '#shared/domain/validation';
import type { TokenService } from '#shared/services/tokens';
import { bodyProblemResponses, createRoute, json, newRouter, problemResponses } from '../router';

const TokenPermissionSchema = v.strictObject({
  resource: v.pipe(
    v.string(),
    v.regex(
      RESOURCE_PATTERN,
      'resource is "*", "topic:<pattern>" or "group:<pattern>" (patterns use [a-zA-Z0-9._-] and *).',
    ),
  ),
  actions: v.pipe(
    v.array(v.literal('consume', 'A browser token is read-only: its only action is "consume".')),
    v.length(1, 'A browser token is read-only: actions is ["consume"].'),
  ),
});

const CreateTokenSchema = v.pipe(
  v.strictObject({
    permissions: v.pipe(v.array(TokenPermissionSchema), v.minLength(1), v.maxLength(MAX_TOKEN_PERMISSIONS)),
    ttlSeconds: v.optional(
      v.pipe(int(), v.minValue(TOKEN_TTL_SECONDS.min), v.maxValue(TOKEN_TTL_SECONDS.max)),
      TOKEN_TTL_SECONDS.default,
    ),
  }),
  v.metadata({ id: 'CreateToken' }),
);

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
          v.object({ token: v.string(), expiresAt: int() }),
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
