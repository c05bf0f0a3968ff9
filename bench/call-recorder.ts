import { performance } from 'node:perf_hooks';
import type { MiddlewareStack } from '@smithy/types';
import { itemSize } from 'dynalite/db/index.js';
import { isUsageCall } from '../test/tenant-state';

/** One AWS call as the SDK sent it: when, what it cost in capacity units, how many bytes it moved. */
export interface RecordedCall {
  /** `Service.Operation`, as {@link SdkCallCounter} names it. */
  operation: string;
  start: number;
  end: number;
  ok: boolean;
  /** DynamoDB read request units (strongly consistent reads: 1 per 4 KB). */
  readUnits: number;
  /** DynamoDB write request units (1 per KB); a failed conditional write is charged too. */
  writeUnits: number;
  /** S3 object bytes sent (PUT) or received (GET). */
  bytes: number;
  /** The DynamoDB item a single-item call addressed (`table pk sk`), if any. */
  item?: string;
  /**
   * A call the request's answer does not wait for: a read or write of the tenant's usage
   * shards (shared/services/quotas.ts sends them beside the request). A read may still
   * delay the calls that started after it ended (the quota waits for it when this instance
   * knows nothing of the current second); a write delays nothing (`delaysNothing`).
   */
  beside?: boolean;
  /** Nothing in the request waits for this call: a usage write. */
  delaysNothing?: boolean;
}

/** `table pk sk` of a document-client key or item (plain values, or marshalled `{ S: … }`). */
const itemName = (table: unknown, key: Record<string, any>) => {
  const plain = (v: any) => (v && typeof v === 'object' ? (v.S ?? v.N ?? JSON.stringify(v)) : String(v));
  return `${String(table)} ${plain(key.pk)} ${plain(key.sk)}`;
};

const CAPACITY_OPERATIONS = new Set(['GetItem', 'PutItem', 'Query', 'Scan', 'UpdateItem', 'DeleteItem']);

/**
 * Records every call of the DynamoDB and S3 clients with its timing, the capacity units
 * DynamoDB reports (`ReturnConsumedCapacity: TOTAL`, which dynalite computes with
 * DynamoDB's rules) and the S3 bytes. The cost model prices these; the latency model
 * replays their order. Bench-only: the product never asks for consumed capacity.
 */
export class CallRecorder {
  readonly calls: RecordedCall[] = [];

  /**
   * @param settle resolves when the calls a request sent beside its answer have settled
   *   (the quota service's usage calls), so that {@link capture} counts them with their
   *   own request rather than the next one.
   */
  constructor(private readonly settle: () => Promise<void> = async () => {}) {}

  attach(client: { middlewareStack: Pick<MiddlewareStack<any, any>, 'add'> }, service: 'DynamoDB' | 'S3'): void {
    // Outermost, so `start` is when the command was sent: parallel calls start together
    // even on a loaded machine, and the replay keeps them parallel. Retries stay inside.
    const open = new WeakMap<object, RecordedCall>();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = String(context.commandName).replace(/Command$/, '');
        const operation = `${service}.${name}`;
        const input = args.input as Record<string, any>;
        if (service === 'DynamoDB' && CAPACITY_OPERATIONS.has(name)) input.ReturnConsumedCapacity = 'TOTAL';
        const start = performance.now();
        const call: RecordedCall = { operation, start, end: start, ok: false, readUnits: 0, writeUnits: 0, bytes: 0 };
        if (service === 'DynamoDB' && input.Key) call.item = itemName(input.TableName, input.Key);
        else if (service === 'DynamoDB' && input.Item) call.item = itemName(input.TableName, input.Item);
        if (service === 'DynamoDB' && isUsageCall(input)) {
          call.beside = true;
          if (name === 'UpdateItem') call.delaysNothing = true;
        }
        open.set(context, call);
        try {
          const result = await next(args);
          const output = result.output as Record<string, any>;
          call.ok = true;
          const units = Number(output?.ConsumedCapacity?.CapacityUnits ?? 0);
          if (name === 'PutItem' || name === 'UpdateItem' || name === 'DeleteItem') call.writeUnits = units;
          else call.readUnits = units;
          if (operation === 'S3.PutObject') call.bytes = Number(input.ContentLength ?? input.Body?.byteLength ?? 0);
          if (operation === 'S3.GetObject') call.bytes = Number(output?.ContentLength ?? 0);
          return result;
        } finally {
          call.end = performance.now();
          this.calls.push(call);
        }
      },
      { step: 'initialize', priority: 'high', name: `benchRecorder${service}`, override: true },
    );
    // A failed conditional write still consumes write capacity for the item it tried to
    // write; the marshalled item is only at hand once the input is serialised.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          const input = args.input as Record<string, any>;
          const call = open.get(context);
          if (call?.operation === 'DynamoDB.PutItem' && input.Item)
            call.writeUnits = Math.ceil(itemSize(input.Item) / 1024);
          throw error;
        }
      },
      { step: 'finalizeRequest', name: `benchFailedWrite${service}`, override: true },
    );
  }

  reset(): void {
    this.calls.length = 0;
  }

  /** Calls recorded while `fn` ran, and those it sent beside its answer (the recorder is reset first). */
  async capture<T>(fn: () => Promise<T>): Promise<{ result: T; calls: RecordedCall[] }> {
    await this.settle();
    this.reset();
    const result = await fn();
    await this.settle();
    return { result, calls: [...this.calls] };
  }
}

/** Calls per operation divided by `n` (per request, per append). */
export const divide = (snapshot: Record<string, number>, n: number) =>
  Object.fromEntries(Object.entries(snapshot).map(([op, count]) => [op, count / n]));

export interface CallTotals {
  calls: number;
  readUnits: number;
  writeUnits: number;
  s3Puts: number;
  s3Gets: number;
  s3PutBytes: number;
  s3GetBytes: number;
}

export const totals = (calls: readonly RecordedCall[]): CallTotals => {
  const t: CallTotals = { calls: 0, readUnits: 0, writeUnits: 0, s3Puts: 0, s3Gets: 0, s3PutBytes: 0, s3GetBytes: 0 };
  for (const c of calls) {
    t.calls += 1;
    t.readUnits += c.readUnits;
    t.writeUnits += c.writeUnits;
    if (c.operation === 'S3.PutObject') {
      t.s3Puts += 1;
      t.s3PutBytes += c.bytes;
    }
    if (c.operation === 'S3.GetObject') {
      t.s3Gets += 1;
      t.s3GetBytes += c.bytes;
    }
  }
  return t;
};

/**
 * Sequential round trips: the longest chain of calls each of which started after the
 * previous one ended, ending in a call the answer waits for (not one sent beside it).
 * Calls that overlapped ran in parallel and count once.
 */
export const roundTrips = (calls: readonly RecordedCall[]): number => {
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  const depth: number[] = [];
  let longest = 0;
  sorted.forEach((call, j) => {
    let d = 1;
    for (let i = 0; i < j; i++) {
      const before = sorted[i] as RecordedCall;
      if (!before.delaysNothing && before.end <= call.start) d = Math.max(d, (depth[i] as number) + 1);
    }
    depth.push(d);
    if (!call.beside) longest = Math.max(longest, d);
  });
  return longest;
};
