import type { FinalizeRequestMiddleware, MetadataBearer, MiddlewareStack } from '@aws-sdk/types';
import type { MetricDatum } from '#shared/observability/telemetry';
import { isConditionalCheckFailure, THROTTLING_NAMES } from './storage-errors';

/**
 * Counts the storage errors operators watch, by watching every attempt on the SDK
 * clients (so each throttled retry counts): conditional-write conflicts (a concurrent
 * writer got there first, e.g. two appends racing for one partition's next offset) and
 * throttling. The host publishes and resets the counts per invocation with `drain()`.
 */
export class SdkErrorCounter {
  private conflicts = 0;
  private throttles = 0;

  attach(client: { middlewareStack: unknown }, service: 'DynamoDB' | 'S3'): void {
    const count: FinalizeRequestMiddleware<object, MetadataBearer> = (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        const name = (error as { name?: unknown })?.name;
        if (isConditionalCheckFailure(error)) this.conflicts++;
        else if (typeof name === 'string' && THROTTLING_NAMES.has(name)) this.throttles++;
        throw error;
      }
    };
    (client.middlewareStack as MiddlewareStack<object, MetadataBearer>).addRelativeTo(
      count,
      // Inside the retry loop, where each attempt's error is already the service's exception.
      { relation: 'after', toMiddleware: 'retryMiddleware', name: `runnelErrorCounter${service}`, override: true },
    );
  }

  /** The non-zero counts since the last drain, as metrics; resets them. */
  drain(): MetricDatum[] {
    const data: MetricDatum[] = [];
    if (this.conflicts > 0) data.push({ name: 'ConditionalWriteConflicts', unit: 'Count', value: this.conflicts });
    if (this.throttles > 0) data.push({ name: 'StorageThrottles', unit: 'Count', value: this.throttles });
    this.conflicts = 0;
    this.throttles = 0;
    return data;
  }
}
