import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { BatchLocation, EntryPage, IndexEntry, LogIndex, PartitionRef } from '#shared/ports/log-index';
import { OffsetTakenError, partitionKey } from '#shared/ports/log-index';

/** Item attributes: short names, because every byte of an index item is paid for on each read. */
interface LogItem {
  pk: string;
  sk: number;
  /** record count */
  n: number;
  /** append time */
  at: number;
  /** max record timestamp */
  mt: number;
  /** size in bytes (records) */
  sz: number;
  /** inline batch bytes */
  d?: Uint8Array;
  /** object key, byte offset, byte length */
  ok?: string;
  bo?: number;
  bl?: number;
  /** writer id */
  w?: string;
}

const toEntry = (item: Record<string, unknown>): IndexEntry => {
  const it = item as unknown as LogItem;
  const location: BatchLocation =
    it.d !== undefined
      ? { kind: 'inline', data: it.d }
      : { kind: 'object', objectKey: it.ok as string, byteOffset: it.bo as number, byteLength: it.bl as number };
  const entry: IndexEntry = {
    baseOffset: it.sk,
    recordCount: it.n,
    appendTime: it.at,
    maxTimestamp: it.mt,
    sizeBytes: it.sz,
    location,
  };
  if (it.w !== undefined) entry.writerId = it.w;
  return entry;
};

const toItem = (p: PartitionRef, entry: IndexEntry): LogItem => {
  const item: LogItem = {
    pk: partitionKey(p),
    sk: entry.baseOffset,
    n: entry.recordCount,
    at: entry.appendTime,
    mt: entry.maxTimestamp,
    sz: entry.sizeBytes,
  };
  if (entry.location.kind === 'inline') {
    item.d = entry.location.data;
  } else {
    item.ok = entry.location.objectKey;
    item.bo = entry.location.byteOffset;
    item.bl = entry.location.byteLength;
  }
  if (entry.writerId !== undefined) item.w = entry.writerId;
  return item;
};

export class DynamoDbLogIndex implements LogIndex {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private async queryOne(p: PartitionRef, forward: boolean, boundary?: { op: '<=' | '>='; offset: number }) {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: boundary ? `pk = :pk AND sk ${boundary.op} :sk` : 'pk = :pk',
        ExpressionAttributeValues: boundary
          ? { ':pk': partitionKey(p), ':sk': boundary.offset }
          : { ':pk': partitionKey(p) },
        ScanIndexForward: forward,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = result.Items?.[0];
    return item ? toEntry(item) : undefined;
  }

  last(p: PartitionRef) {
    return this.queryOne(p, false);
  }

  first(p: PartitionRef) {
    return this.queryOne(p, true);
  }

  entryAtOrBefore(p: PartitionRef, offset: number) {
    return this.queryOne(p, false, { op: '<=', offset });
  }

  async entriesFrom(p: PartitionRef, fromOffset: number, limit: number): Promise<EntryPage> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk >= :sk',
        ExpressionAttributeValues: { ':pk': partitionKey(p), ':sk': fromOffset },
        ScanIndexForward: true,
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    const entries = (result.Items ?? []).map(toEntry);
    return { entries, more: result.LastEvaluatedKey !== undefined };
  }

  async append(p: PartitionRef, entry: IndexEntry): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(p, entry),
          // The whole offset protocol rests on this condition: two writers that computed
          // the same next offset write the same key, and exactly one of them succeeds.
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new OffsetTakenError(entry.baseOffset);
      throw error;
    }
  }
}
