import { divide, type RecordedCall, roundTrips, totals } from './call-recorder';
import { warmKeyCache } from './profiles';
import { type BenchStack, callJson, createTopic, produceBody, produceInputs } from './stack';

export interface CallProfile {
  label: string;
  /** Calls per request by operation (SdkCallCounter, averaged over `requests`). */
  perRequest: Record<string, number>;
  requests: number;
  partitionsTouched: number;
  /** Segments (S3 objects) a fetch spans; 0 when every batch read is inline. */
  segments?: number;
  readUnits: number;
  writeUnits: number;
  s3Bytes: number;
  roundTrips: number;
  /** The calls of the last request, for the latency model. */
  calls: RecordedCall[];
  wireBytes: number;
}

const addInto = (sum: Record<string, number>, snapshot: Record<string, number>) => {
  for (const [op, n] of Object.entries(snapshot)) sum[op] = (sum[op] ?? 0) + n;
};

/**
 * Runs `request` `requests` times in steady state (key cache warm) and averages what it
 * cost: calls by operation, capacity units and S3 bytes (`s3` says which direction). Keeps
 * the steady-state shape: the run with the fewest sequential round trips (a quota window
 * opening adds a write now and then).
 */
const measureRepeated = async <T>(
  stack: BenchStack,
  requests: number,
  s3: 's3PutBytes' | 's3GetBytes',
  request: () => Promise<T>,
) => {
  const counted: Record<string, number> = {};
  let last: RecordedCall[] = [];
  let units = { readUnits: 0, writeUnits: 0, s3Bytes: 0 };
  let result: T | undefined;
  for (let i = 0; i < requests; i++) {
    await warmKeyCache(stack);
    stack.counter.reset();
    const captured = await stack.recorder.capture(request);
    addInto(counted, stack.counter.snapshot());
    result = captured.result;
    if (last.length === 0 || roundTrips(captured.calls) < roundTrips(last)) last = captured.calls;
    const t = totals(captured.calls);
    units = {
      readUnits: units.readUnits + t.readUnits,
      writeUnits: units.writeUnits + t.writeUnits,
      s3Bytes: units.s3Bytes + t[s3],
    };
  }
  return {
    perRequest: divide(counted, requests),
    readUnits: units.readUnits / requests,
    writeUnits: units.writeUnits / requests,
    s3Bytes: units.s3Bytes / requests,
    roundTrips: roundTrips(last),
    calls: last,
    result: result as T,
  };
};

/**
 * Calls per produce request, counted by the project's SdkCallCounter on the SDK clients,
 * in steady state (the key cache is warm: its GetItem happens once per instance per 5 s).
 */
export const measureProduceCalls = async (
  stack: BenchStack,
  options: { label: string; partitions: number; records: number; recordBytes: number; requests: number },
): Promise<CallProfile> => {
  const topic = `calls-${options.label.replace(/[^a-z0-9]+/gi, '-')}-${Date.now()}`;
  await createTopic(stack.inProcess, topic, options.partitions);
  const body = produceBody(options.records, options.recordBytes, options.partitions);
  const produce = () => callJson(stack.inProcess, `/v1/topics/${topic}/records`, { method: 'POST', body });
  await produce();
  const { result: _result, ...measured } = await measureRepeated(stack, options.requests, 's3PutBytes', produce);
  return {
    label: options.label,
    requests: options.requests,
    partitionsTouched: options.partitions,
    ...measured,
    wireBytes: body.length,
  };
};

/**
 * Calls per fetch of written data: `batches` produce requests of `records` records go to
 * partition 0 first; then one fetch reads them all (maxRecords = everything).
 */
export const measureFetchCalls = async (
  stack: BenchStack,
  options: { label: string; batches: number; records: number; recordBytes: number; requests: number },
): Promise<CallProfile> => {
  const topic = `fetch-${options.label.replace(/[^a-z0-9]+/gi, '-')}-${Date.now()}`;
  await createTopic(stack.inProcess, topic, 1);
  const body = produceBody(options.records, options.recordBytes, 1);
  stack.recorder.reset();
  for (let i = 0; i < options.batches; i++) {
    await callJson(stack.inProcess, `/v1/topics/${topic}/records`, { method: 'POST', body });
  }
  const segments = stack.recorder.calls.filter((c) => c.operation === 'S3.PutObject').length;
  const total = options.batches * options.records;
  const path = `/v1/topics/${topic}/partitions/0/records?offset=0&maxRecords=${Math.min(10_000, total)}&maxBytes=${4 * 1024 * 1024}`;
  const fetchAll = async () => {
    const page = await callJson<{ records: unknown[] }>(stack.inProcess, path);
    if (page.records.length !== total) throw new Error(`fetched ${page.records.length} of ${total} records`);
    return JSON.stringify(page).length;
  };
  await fetchAll();
  const { result: wireBytes, ...measured } = await measureRepeated(stack, options.requests, 's3GetBytes', fetchAll);
  return {
    label: options.label,
    requests: options.requests,
    partitionsTouched: 1,
    segments,
    ...measured,
    wireBytes,
  };
};

export interface HotPartitionResult {
  /** Through the HTTP API (topic lookup and quota admission included), or the append alone. */
  via: 'api' | 'append';
  writers: number;
  appends: number;
  /**
   * Attempts per successful append: its entry put plus every put that failed its condition
   * (1 = no writer lost an offset: no tail lost to another writer, no reservation fenced).
   */
  attemptsPerAppend: number;
  /** Puts that failed their condition per append: a tail another writer took first (the tail era), a reservation a gap marker fenced. */
  conflictsPerAppend: number;
  /** Offset reservations (UpdateItem on the partition's counter) per append: 0 while one writer appends at the tail. */
  reservationsPerAppend: number;
  /** DynamoDB calls per append (topic lookup, reservation, put, retries; usage writes through the API). */
  dynamoCallsPerAppend: number;
  /** All AWS calls per append. */
  callsPerAppend: number;
  byOperationPerAppend: Record<string, number>;
  /** DynamoDB capacity per append, failed conditional writes included. */
  writeUnitsPerAppend: number;
  readUnitsPerAppend: number;
  /** Writes that took effect per append on the partition's single hottest item (its counter): what bounds the partition's rate. */
  hottestItemWritesPerAppend: number;
  /** Produce requests refused with 503 after running out of attempts (should be 0). */
  refused: number;
}

/** DynamoDB's limit per item (and per partition key before it splits for heat): 1,000 write units per second. */
export const ITEM_WRITE_UNITS_PER_SECOND = 1000;

/**
 * Modelled ceiling of one partition in appends per second: its counter item takes one
 * write (1 unit, the item is tiny) per reservation, and the entries share one partition
 * key (DynamoDB spreads a hot key's sort-key range over partitions, "split for heat", but
 * count it unsplit). `entryWriteUnits`: units of one entry put (1 per KB).
 */
export const hotPartitionCeiling = (hottestItemWritesPerAppend: number, entryWriteUnits: number): number =>
  Math.min(ITEM_WRITE_UNITS_PER_SECOND / hottestItemWritesPerAppend, ITEM_WRITE_UNITS_PER_SECOND / entryWriteUnits);

/**
 * `writers` concurrent producers append small (inline) batches to ONE partition, each
 * `appendsPerWriter` times in a row: the append protocol's cost under contention.
 */
export const measureHotPartition = async (
  stack: BenchStack,
  options: { writers: number; appendsPerWriter: number; via?: 'api' | 'append' },
): Promise<HotPartitionResult> => {
  const via = options.via ?? 'api';
  const topic = `hot-${options.writers}-${Date.now()}`;
  await createTopic(stack.inProcess, topic, 1);
  const body = produceBody(1, 100, 1);
  const record = produceInputs(1, 100);
  await callJson(stack.inProcess, `/v1/topics/${topic}/records`, { method: 'POST', body });
  stack.counter.reset();
  stack.recorder.reset();
  let refused = 0;
  await Promise.all(
    Array.from({ length: options.writers }, async () => {
      for (let i = 0; i < options.appendsPerWriter; i++) {
        if (via === 'append') {
          // The produce service on its own: the append protocol, nothing before it.
          const t = await stack.services.topics.get(stack.tenantId, topic);
          try {
            await stack.services.producer.produce(t, record, { limits: stack.services.limits });
          } catch (error) {
            if ((error as { status?: number }).status === 503) refused += 1;
            else throw error;
          }
          continue;
        }
        const res = await stack.inProcess(`/v1/topics/${topic}/records`, { method: 'POST', body });
        await res.text();
        if (res.status === 503) refused += 1;
        else if (res.status !== 200) throw new Error(`produce → ${res.status}`);
      }
    }),
  );
  const appends = options.writers * options.appendsPerWriter - refused;
  const byOperation = stack.counter.snapshot();
  const calls = stack.recorder.calls;
  const reservations = calls.filter((c) => c.operation === 'DynamoDB.UpdateItem' && c.item?.includes('#next ')).length;
  const failed = calls.filter((c) => c.operation === 'DynamoDB.PutItem' && !c.ok).length;
  const perItem = new Map<string, number>();
  for (const c of calls) {
    // Writes that took effect: the failed conditional writes of the race that ends a partition's
    // tail era (once per partition) are counted in conflictsPerAppend, not here.
    if (!c.item || !c.ok || !['DynamoDB.PutItem', 'DynamoDB.UpdateItem'].includes(c.operation)) continue;
    perItem.set(c.item, (perItem.get(c.item) ?? 0) + 1);
  }
  const dynamoCalls = Object.entries(byOperation)
    .filter(([op]) => op.startsWith('DynamoDB.'))
    .reduce((n, [, v]) => n + v, 0);
  return {
    via,
    writers: options.writers,
    appends,
    attemptsPerAppend: (appends + failed) / appends,
    conflictsPerAppend: failed / appends,
    reservationsPerAppend: reservations / appends,
    dynamoCallsPerAppend: dynamoCalls / appends,
    callsPerAppend: stack.counter.total() / appends,
    byOperationPerAppend: divide(byOperation, appends),
    writeUnitsPerAppend: totals(calls).writeUnits / appends,
    readUnitsPerAppend: totals(calls).readUnits / appends,
    hottestItemWritesPerAppend: Math.max(0, ...perItem.values()) / appends,
    refused,
  };
};
