import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type ErrorCode, RunnelError } from '#shared/domain/errors';

/** RFC 9457 problem details, with the API's stable `code`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  [extension: string]: unknown;
}

export const problemType = (code: ErrorCode) => `urn:runnel:problem:${code}`;

const HTTP_EXCEPTION_CODES: Record<number, ErrorCode> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'request_too_large',
  415: 'unsupported_media_type',
};

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'SlowDown',
  'ServiceUnavailable',
  'InternalServerError',
  'TimeoutError',
  'RequestTimeout',
]);
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE']);

/**
 * A storage call that failed after the SDK's own retries for a reason that passes
 * (throttling, a 5xx of the service, a timeout or a broken connection): the client should
 * retry the request, so it is told 503 with Retry-After rather than 500.
 */
const isTransientStorageError = (error: unknown): boolean => {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: string; code?: string; $fault?: string };
  return (
    (e.name !== undefined && TRANSIENT_NAMES.has(e.name)) ||
    (e.code !== undefined && TRANSIENT_CODES.has(e.code)) ||
    e.$fault === 'server'
  );
};

/** Maps anything thrown by a route to a RunnelError; unknown errors become a bare 500. */
export const toRunnelError = (error: unknown): RunnelError => {
  if (error instanceof RunnelError) return error;
  if (error instanceof HTTPException) {
    const code = HTTP_EXCEPTION_CODES[error.status];
    if (code) {
      const detail =
        error.status === 415
          ? 'Send the body as JSON with Content-Type: application/json.'
          : error.message || 'The request could not be read.';
      return new RunnelError(code, error.status, detail);
    }
  }
  if (isTransientStorageError(error)) {
    return new RunnelError('unavailable', 503, 'Storage is briefly unavailable; retry the request.', {
      retryAfterSeconds: 1,
      cause: error,
    });
  }
  return new RunnelError('internal', 500, 'The request failed unexpectedly; it is safe to retry.', { cause: error });
};

export const problemResponse = (c: Context, error: RunnelError): Response => {
  const body: Problem = {
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
    ...error.extensions,
  };
  const headers: Record<string, string> = { 'Content-Type': 'application/problem+json', ...error.headers };
  if (error.retryAfterSeconds !== undefined)
    headers['Retry-After'] = String(Math.max(1, Math.ceil(error.retryAfterSeconds)));
  return c.body(JSON.stringify(body), error.status as ContentfulStatusCode, headers);
};
