import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type ErrorCode, type ProblemFields, RunnelError } from '#shared/domain/errors';

/** RFC 9457 problem details, with the API's stable `code` and the typed recovery fields. */
export interface Problem extends ProblemFields {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
}

export const problemType = (code: ErrorCode) => `urn:runnel:problem:${code}`;

/** The errors hono itself throws (body limit, malformed JSON), by status. */
const HTTP_EXCEPTION_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'request_too_large',
  415: 'unsupported_media_type',
};

/**
 * Maps anything thrown by a route to a RunnelError; anything unknown becomes a bare 500
 * that names no internals. Storage failures arrive already classified by the adapters
 * (transient ones as a 503 `unavailable`), so nothing here knows storage error names.
 */
export const toRunnelError = (error: unknown): RunnelError => {
  if (error instanceof RunnelError) return error;
  if (error instanceof HTTPException) {
    const code = HTTP_EXCEPTION_CODES[error.status];
    if (code) {
      const detail =
        code === 'unsupported_media_type'
          ? 'Send the body as JSON with Content-Type: application/json.'
          : error.message || 'The request could not be read.';
      return new RunnelError(code, detail);
    }
  }
  return new RunnelError(
    'internal',
    'The request failed unexpectedly and may or may not have taken effect. Retry it only if it is idempotent ' +
      '(reads, and produce requests with an Idempotency-Key or a producer sequence).',
    {},
    { cause: error },
  );
};

/** The problem document of an error (also the data of a stream's `error` event). */
export const problemBody = (error: RunnelError): Problem => ({
  type: problemType(error.code),
  title: error.title,
  status: error.status,
  detail: error.message,
  code: error.code,
  ...error.problemFields(),
});

export const problemResponse = (c: Context, error: RunnelError): Response => {
  const body = problemBody(error);
  const headers: Record<string, string> = { 'Content-Type': 'application/problem+json' };
  const retryAfter = error.retryAfterSeconds;
  if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter);
  if (error.allow) headers.Allow = error.allow.join(', ');
  return c.body(JSON.stringify(body), error.status as ContentfulStatusCode, headers);
};
