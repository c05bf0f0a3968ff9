import type { InitializeMiddleware, MetadataBearer, MiddlewareStack } from '@aws-sdk/types';
import { StorageUnavailableError } from '#shared/domain/errors';

/** Error names of DynamoDB and S3 that mean "slow down" (also counted per attempt as a metric). */
export const THROTTLING_NAMES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
]);

/** Error names of DynamoDB and S3 (and the SDK) that mean "this passes: try again later". */
const TRANSIENT_NAMES = new Set([
  ...THROTTLING_NAMES,
  'ServiceUnavailable',
  'InternalServerError',
  'TimeoutError',
  'RequestTimeout',
]);

/** Node socket error codes of a broken or refused connection. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE']);

/**
 * Whether a storage call failed, after the SDK's own retries, for a reason that passes:
 * throttling, a 5xx of the service, a timeout or a broken connection. The only place in
 * the code base that knows AWS error names for this purpose.
 */
export const isTransientStorageError = (error: unknown): boolean => {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: string; code?: string; $fault?: string };
  return (
    (e.name !== undefined && TRANSIENT_NAMES.has(e.name)) ||
    (e.code !== undefined && TRANSIENT_CODES.has(e.code)) ||
    e.$fault === 'server'
  );
};

/** Whether the service refused a conditional write because its condition failed (an ordinary outcome). */
export const isConditionalCheckFailure = (error: unknown): boolean =>
  (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';

/** The domain error a storage failure becomes: transient ones {@link StorageUnavailableError}, others as they are. */
export const classifyStorageError = (error: unknown): unknown =>
  isTransientStorageError(error) ? new StorageUnavailableError(error) : error;

const MIDDLEWARE_NAME = 'runnelStorageErrors';

/**
 * Makes every call of `client` (and of document clients built from it) throw
 * {@link StorageUnavailableError} instead of the SDK's transient errors. It wraps the
 * whole call, outside the SDK's retry loop, so it sees only the final error of a call
 * whose retries ran out. Conditional-check failures and other client errors pass
 * unchanged: the adapters turn those into their ports' errors.
 */
export const classifyStorageErrors = (client: { middlewareStack: unknown }): void => {
  const classify: InitializeMiddleware<object, MetadataBearer> = (next) => async (args) => {
    try {
      return await next(args);
    } catch (error) {
      throw classifyStorageError(error);
    }
  };
  (client.middlewareStack as MiddlewareStack<object, MetadataBearer>).add(classify, {
    step: 'initialize',
    priority: 'high',
    name: MIDDLEWARE_NAME,
    override: true,
  });
};
