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

/**
 * The API function behind API Gateway, which buffers whole responses: a stream there
 * would be held until the gateway gives up. Stream requests are refused at once and sent
 * to the stream endpoint instead.
 */
export const noStreams = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const path = new URL(c.req.url).pathname;
  if (isStreamRequest({ method: c.req.method, path, header: (name) => c.req.header(name) })) {
    throw new RunnelError(
      'not_acceptable',
      'This endpoint does not stream (its front door buffers responses): open streams on the stream endpoint (StreamUrl).',
    );
  }
  await next();
};
