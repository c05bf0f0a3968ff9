import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';

/** Counts of AWS calls by `Service.Operation` (e.g. `DynamoDB.PutItem`, `S3.PutObject`). */
export class SdkCallCounter {
  readonly counts = new Map<string, number>();

  /** Adds a middleware to the client's stack that counts every call it sends (retries included). */
  attach(client: DynamoDBClient | S3Client, service: 'DynamoDB' | 'S3'): void {
    // Both clients have the same stack shape; TypeScript cannot call a union of overloads.
    (client.middlewareStack as DynamoDBClient['middlewareStack']).add(
      (next, context) => async (args) => {
        const operation = `${service}.${String(context.commandName).replace(/Command$/, '')}`;
        this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
        return next(args);
      },
      { step: 'finalizeRequest', name: `runnelCallCounter${service}`, override: true },
    );
  }

  get(operation: string): number {
    return this.counts.get(operation) ?? 0;
  }

  total(prefix = ''): number {
    let n = 0;
    for (const [op, count] of this.counts) if (op.startsWith(prefix)) n += count;
    return n;
  }

  reset(): void {
    this.counts.clear();
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort());
  }
}
