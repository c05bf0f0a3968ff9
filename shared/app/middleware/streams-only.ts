import type { MiddlewareHandler } from 'hono';
import { RunnelError } from '#shared/domain/errors';
import type { AppEnv } from '../env';
import { isStreamRequest } from './auth';

/**
 * The streaming front door (a Lambda Function URL, which has no throttling of its own)
 * answers stream requests only; every other route, token minting included, lives behind
 * the main API endpoint, so its rate limits cannot be bypassed here. A token minted there
 * works here: tokens are verified, not stored. Preflights are answered
 * by the Function URL's CORS configuration before the function runs.
 */
export const streamsOnly = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const path = new URL(c.req.url).pathname;
  const minting = c.req.method === 'POST' && (path === '/v1/tokens' || path === '/v1/tokens/');
  if (
    !minting &&
    !isStreamRequest({ method: c.req.method, path, header: (name) => c.req.header(name) }) &&
    path !== '/healthz'
  ) {
    throw new RunnelError(
      'not_found',
      'This endpoint serves streams only (GET with Accept: text/event-stream); use the API endpoint.',
    );
  }
  await next();
};
