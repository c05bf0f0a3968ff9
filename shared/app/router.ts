import { OpenAPIHono, type z } from '@hono/zod-openapi';
import { invalidRequest } from '#shared/domain/errors';
import type { AppEnv } from './env';
import { ProblemSchema } from './schemas';

interface Issue {
  path: PropertyKey[];
  message: string;
}

/** Turns schema issues into one readable 400: "records.0.partition: Too small: expected number to be >=0". */
export const validationError = (issues: readonly Issue[]) => {
  const errors = issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const detail = errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ');
  return invalidRequest(detail || 'The request is invalid.', errors);
};

/** Every router validates with the same hook: invalid input throws, `app.onError` answers. */
export const newRouter = () =>
  new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error.issues);
    },
  });

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' as const, minimum: 1 } },
};

/** A problem response with this description; `retryAfter` when it carries `Retry-After`. */
export const problem = (description: string, options: { retryAfter?: boolean } = {}) => ({
  content: { 'application/problem+json': { schema: ProblemSchema } },
  description,
  ...(options.retryAfter ? { headers: RETRY_AFTER } : {}),
});

/** The problems any route can answer. */
export const problemResponses = {
  400: problem('`invalid_request`: the request does not match the schema (`errors` lists each issue)'),
  401: problem('`unauthorized`: missing or unknown key'),
  403: problem('`forbidden`: the key lacks the permission; `quota_exceeded` over a count quota'),
  404: problem('Not found (a resource of another tenant is answered as not found)'),
  429: problem('`throttled`: too many failed authentications from this address; retry after `Retry-After`', {
    retryAfter: true,
  }),
  500: problem('`internal`: an unexpected failure'),
  503: problem('`unavailable`: storage is briefly unavailable; retry after `Retry-After`', { retryAfter: true }),
} as const;

/** The problems of a route that takes a JSON body. */
export const bodyProblemResponses = {
  413: problem('`request_too_large`: the body is over 6 MiB (`record_too_large`: a record over 1 MiB)'),
  415: problem('`unsupported_media_type`: the body is not `application/json`'),
} as const;

/** 429 of a route that also counts against the tenant's byte rates; spread after {@link problemResponses}. */
export const throttledResponse = {
  429: problem(
    "`throttled`: over the tenant's byte rate for this second, or too many failed authentications from this address; retry after `Retry-After`",
    { retryAfter: true },
  ),
} as const;

/** The operator API's security requirement (the tenant API's is the document's default). */
export const OPERATOR_KEY = [{ operatorKey: [] }];

/** A JSON response of this schema, for a route's `responses`. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});
