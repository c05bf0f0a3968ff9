import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  BatchLocation,
  BatchStart,
  CounterState,
  EntryPage,
  IndexEntry,
  LogIndex,
  OffsetCounter,
  PartitionRef,
  Reservation,
} from '#shared/ports/log-index';
import { OffsetTakenError, partitionKey } from '#shared/ports/log-index';
import { sendConditional } from './conditional';

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
  /** expiry marker: the batch's bytes are gone (only on a partition's last entry) */
  g?: boolean;
  /** gap marker: offsets of a reservation that was never written */
  gp?: boolean;
  /** slot (reservation number) and, for compacted entries and gap markers over several, the last one */
  sl?: number;
  sle?: number;
  /** inner gap marker: where its hole starts */
  hs?: number;
  /** batch directory of a compacted entry: per batch u32 offset delta, u32 byte delta, f64 append time */
  bd?: Uint8Array;
  /** writer ids kept through compaction → their batch's base offset */
  kw?: Record<string, number>;
}

const BATCH_START_BYTES = 16;

const encodeBatchStarts = (entry: IndexEntry, byteOffset: number, batches: BatchStart[]): Uint8Array => {
  const buf = Buffer.alloc(batches.length * BATCH_START_BYTES);
  batches.forEach((b, i) => {
    buf.writeUInt32LE(b.baseOffset - entry.baseOffset, i * BATCH_START_BYTES);
    buf.writeUInt32LE(b.byteOffset - byteOffset, i * BATCH_START_BYTES + 4);
    buf.writeDoubleLE(b.appendTime, i * BATCH_START_BYTES + 8);
  });
  return buf;
};

const decodeBatchStarts = (bytes: Uint8Array, baseOffset: number, byteOffset: number): BatchStart[] => {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const batches: BatchStart[] = [];
  for (let at = 0; at + BATCH_START_BYTES <= buf.byteLength; at += BATCH_START_BYTES) {
    batches.push({
      baseOffset: baseOffset + buf.readUInt32LE(at),
      byteOffset: byteOffset + buf.readUInt32LE(at + 4),
      appendTime: buf.readDoubleLE(at + 8),
    });
  }
  return batches;
};

const toEntry = (item: Record<string, unknown>): IndexEntry => {
  const it = item as unknown as LogItem;
  const location: BatchLocation = it.gp
    ? { kind: 'gap' }
    : it.g
      ? { kind: 'expired' }
      : it.d !== undefined
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
  if (it.bd !== undefined) entry.batches = decodeBatchStarts(it.bd, it.sk, it.bo ?? 0);
  if (it.kw !== undefined) entry.keptWriters = it.kw;
  if (it.sl !== undefined) entry.slot = it.sl;
  if (it.sle !== undefined) entry.lastSlot = it.sle;
  if (it.hs !== undefined) entry.holeStart = it.hs;
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
  } else if (entry.location.kind === 'object') {
    item.ok = entry.location.objectKey;
    item.bo = entry.location.byteOffset;
    item.bl = entry.location.byteLength;
    if (entry.batches) item.bd = encodeBatchStarts(entry, entry.location.byteOffset, entry.batches);
  } else if (entry.location.kind === 'gap') {
    item.gp = true;
  } else {
    item.g = true;
  }
  if (entry.slot !== undefined) item.sl = entry.slot;
  if (entry.lastSlot !== undefined) item.sle = entry.lastSlot;
  if (entry.holeStart !== undefined) item.hs = entry.holeStart;
  if (entry.writerId !== undefined) item.w = entry.writerId;
  if (entry.keptWriters !== undefined && Object.keys(entry.keptWriters).length > 0) item.kw = entry.keptWriters;
  return item;
};

/**
 * The condition "the stored item is still `expected`": an entry is identified by its key,
 * record count, append time and location (a rehomed or compacted entry differs in one of
 * them, an expiry marker in its location).
 */
const unchanged = (expected: IndexEntry) => {
  const values: Record<string, unknown> = { ':n': expected.recordCount, ':at': expected.appendTime };
  let location: string;
  if (expected.location.kind === 'object') {
    location = 'ok = :ok AND bo = :bo AND bl = :bl';
    values[':ok'] = expected.location.objectKey;
    values[':bo'] = expected.location.byteOffset;
    values[':bl'] = expected.location.byteLength;
  } else if (expected.location.kind === 'inline') {
    location = 'attribute_exists(d)';
  } else if (expected.location.kind === 'gap') {
    location = 'attribute_exists(gp)';
  } else {
    location = 'attribute_exists(g)';
  }
  return {
    ConditionExpression: `attribute_exists(sk) AND n = :n AND #at = :at AND ${location}`,
    ExpressionAttributeNames: { '#at': 'at' },
    ExpressionAttributeValues: values,
  };
};

/**
 * The partition's offset counter: its own item, under a key no query of the partition's
 * entries can see (`<partitionKey>#next`, sort key 0). `next` is the next offset to hand
 * out, `slot` the next reservation number.
 */
const counterKey = (p: PartitionRef) => ({ pk: `${partitionKey(p)}#next`, sk: 0 });

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
    const written = await sendConditional(
      this.client,
      new PutCommand({
        TableName: this.tableName,
        Item: toItem(p, entry),
        // The whole offset protocol rests on this condition: two writers that computed
        // the same next offset write the same key, and exactly one of them succeeds.
        ConditionExpression: 'attribute_not_exists(sk)',
      }),
    );
    if (!written) throw new OffsetTakenError(entry.baseOffset);
  }

  async reserve(p: PartitionRef, count: number): Promise<Reservation | undefined> {
    if (!Number.isInteger(count) || count < 1) throw new Error('reserve takes a positive record count');
    const result = await sendConditional(
      this.client,
      new UpdateCommand({
        TableName: this.tableName,
        Key: counterKey(p),
        // Never conflicts: an atomic increment. The condition only refuses to create the
        // counter from nothing (it must start at the partition's end: initCounter).
        UpdateExpression: 'ADD #next :n, #slot :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#next': 'next', '#slot': 'slot' },
        ExpressionAttributeValues: { ':n': count, ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    if (!result) return undefined;
    const next = result.Attributes?.next as number;
    const slot = result.Attributes?.slot as number;
    return { baseOffset: next - count, slot: slot - 1 };
  }

  async initCounter(p: PartitionRef, counter: OffsetCounter): Promise<boolean> {
    const written = await sendConditional(
      this.client,
      new PutCommand({
        TableName: this.tableName,
        Item: { ...counterKey(p), next: counter.next, slot: counter.slot },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return written !== undefined;
  }

  async readCounter(p: PartitionRef): Promise<CounterState | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: counterKey(p), ConsistentRead: true }),
    );
    const item = result.Item;
    if (!item) return undefined;
    return { next: item.next as number, slot: item.slot as number, floor: (item.floor as number | undefined) ?? 0 };
  }

  async raiseFloor(p: PartitionRef, offset: number): Promise<void> {
    await sendConditional(
      this.client,
      new UpdateCommand({
        TableName: this.tableName,
        Key: counterKey(p),
        UpdateExpression: 'SET #floor = :o',
        // Never creates a counter (reserve must not find one that starts from nothing), never lowers the floor.
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#floor) OR #floor < :o)',
        ExpressionAttributeNames: { '#floor': 'floor' },
        ExpressionAttributeValues: { ':o': offset },
      }),
    );
  }

  async removeCounter(p: PartitionRef): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: counterKey(p) }));
  }

  async replace(p: PartitionRef, expected: IndexEntry, next: IndexEntry): Promise<boolean> {
    if (next.baseOffset !== expected.baseOffset) throw new Error('replace keeps the base offset');
    const written = await sendConditional(
      this.client,
      new PutCommand({ TableName: this.tableName, Item: toItem(p, next), ...unchanged(expected) }),
    );
    return written !== undefined;
  }

  async remove(p: PartitionRef, expected: IndexEntry): Promise<boolean> {
    const deleted = await sendConditional(
      this.client,
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: partitionKey(p), sk: expected.baseOffset },
        ...unchanged(expected),
      }),
    );
    return deleted !== undefined;
  }
}
