import { sValidator } from '@hono/standard-validator';
import { type Context, type Handler, Hono, type MiddlewareHandler, type ValidationTargets } from 'hono';
import type * as v from 'valibot';
import { invalidRequest, RunnelError } from '#shared/domain/errors';
import { type Issue, issuesOf } from '#shared/domain/validation';
import type { AppEnv } from './env';
import { ProblemSchema } from './schemas';

/** Turns schema issues into one readable 400: "records.0.partition: Invalid value: Expected >=0 but received -1". */
export const validationError = (issues: readonly Issue[]) => {
  const errors = issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const detail = errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ');
  return invalidRequest(detail || 'The request is invalid.', errors);
};

/**
 * One operation of the HTTP contract: its path (OpenAPI style, `{param}`), the schemas
 * that validate its input, and what it answers. The same object registers the route
 * (`Router.openapi`) and describes it in the OpenAPI document (`npm run openapi`), so
 * the two cannot drift apart.
 */
export interface RouteConfig {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security?: Record<string, string[]>[];
  request?: {
    params?: v.GenericSchema;
    query?: v.GenericSchema;
    /** Header names reach the schema in lower case. */
    headers?: v.GenericSchema;
    /** Every body is JSON and required. */
    body?: { content: { 'application/json': { schema: v.GenericSchema } }; required: true; description?: string };
  };
  responses: Record<number, unknown>;
}

/** A route of the contract; the identity, for type inference. */
export const createRoute = <R extends RouteConfig>(route: R): R => route;

type Validated<R extends RouteConfig, K extends keyof NonNullable<R['request']>, Target extends string> = NonNullable<
  R['request']
>[K] extends infer S extends v.GenericSchema
  ? { [T in Target]: v.InferOutput<S> }
  : NonNullable<R['request']>[K] extends {
        content: { 'application/json': { schema: infer S extends v.GenericSchema } };
      }
    ? { [T in Target]: v.InferOutput<S> }
    : Record<never, never>;

/** What `c.req.valid(target)` returns in a route's handler. */
type RouteInput<R extends RouteConfig> = {
  out: Validated<R, 'params', 'param'> &
    Validated<R, 'query', 'query'> &
    Validated<R, 'headers', 'header'> &
    Validated<R, 'body', 'json'>;
};

/** `application/json`, optionally `+json` and parameters (e.g. charset). */
const JSON_MEDIA_TYPE = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

const hasRequestBody = async (c: Context<AppEnv>): Promise<boolean> => {
  const raw = c.req.raw;
  if (raw.body === null) return false;
  if (raw.bodyUsed) return (await c.req.arrayBuffer()).byteLength > 0;
  const body = raw.clone().body;
  if (body === null) return false;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return false;
      if (value.byteLength > 0) return true;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
};

/** A body that is not JSON is refused (415) before the schema is tried. */
const jsonBodyOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  const contentType = c.req.header('content-type');
  if (contentType ? !JSON_MEDIA_TYPE.test(contentType) : await hasRequestBody(c)) {
    throw new RunnelError('unsupported_media_type', 'Send the body as JSON with Content-Type: application/json.');
  }
  await next();
};

/** Every router validates with the same hook: invalid input throws, `app.onError` answers. */
const hook = (result: { success: boolean; error?: Parameters<typeof issuesOf>[0] }) => {
  if (!result.success) throw validationError(issuesOf(result.error ?? []));
};

/** Validates one part of the request with a route's schema. */
const validate = (target: keyof ValidationTargets, schema: v.GenericSchema) =>
  sValidator(target, schema, hook) as unknown as MiddlewareHandler<AppEnv>;

/**
 * A hono router whose routes are {@link RouteConfig}s: `openapi(route, handler)` validates
 * params, query, headers and the JSON body with the route's schemas before the handler
 * runs, and keeps the route for the OpenAPI document.
 */
export class Router extends Hono<AppEnv> {
  /** The routes registered here, paths relative to where the router is mounted. */
  readonly definitions: RouteConfig[] = [];
  /** Each route's validators and handler, by `METHOD /path` (OpenAPI style), for {@link runRoute}. */
  readonly chains = new Map<string, MiddlewareHandler<AppEnv>[]>();

  openapi<R extends RouteConfig>(route: R, handler: Handler<AppEnv, string, RouteInput<R>>): this {
    this.definitions.push(route);
    const validators: MiddlewareHandler<AppEnv>[] = [];
    const { request } = route;
    if (request?.query) validators.push(validate('query', request.query));
    if (request?.params) validators.push(validate('param', request.params));
    if (request?.headers) validators.push(validate('header', request.headers));
    if (request?.body) {
      validators.push(jsonBodyOnly);
      validators.push(validate('json', request.body.content['application/json'].schema));
    }
    this.chains.set(`${route.method.toUpperCase()} ${route.path}`, [
      ...validators,
      handler as MiddlewareHandler<AppEnv>,
    ]);
    this.on([route.method.toUpperCase()], [honoPath(route.path)], ...validators, handler as Handler);
    return this;
  }
}

/** `/topics/{topic}` as hono writes it: `/topics/:topic`. */
export const honoPath = (path: string) => path.replaceAll(/\/{(.+?)}/g, '/:$1');

/**
 * Runs one route's validators and handler (`chain`, from {@link Router.chains}) in the
 * context of a request that another app matched on the same method and path, as hono's
 * own dispatch would: a middleware's returned response becomes the answer, errors reach
 * that app's `onError`.
 */
export const runRoute = async (chain: readonly MiddlewareHandler<AppEnv>[], c: Context<AppEnv>) => {
  const dispatch = async (i: number): Promise<void> => {
    const step = chain[i];
    if (!step) return;
    const res = await step(c, () => dispatch(i + 1));
    if (res instanceof Response && !c.finalized) c.res = res;
  };
  await dispatch(0);
  return c.res;
};

export const newRouter = () => new Router();

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
export const json = <T extends v.GenericSchema>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});
