import { OpenAPIHono, type z } from '@hono/zod-openapi';
import { invalidRequest } from '#shared/domain/errors';
import type { AppEnv } from './env';

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

export const problemResponses = {
  400: { description: 'Invalid request (problem details)' },
  401: { description: 'Missing or unknown API key' },
  403: { description: 'The key lacks the permission' },
  404: { description: 'Not found (also: owned by another tenant)' },
} as const;

/** A JSON response of this schema, for a route's `responses`. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});
