import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '#shared/domain/partitioner';
import { nextLongPollWait, type Stack, startStack } from './harness';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
  for (const [name, partitions] of [
    ['events', 1],
    ['keyed', 12],
    ['wide', 10],
    ['big', 2],
    ['timed', 1],
  ] as const) {
    expect((await stack.api.post('/v1/topics', { name, partitions })).status).toBe(201);
  }
});
afterAll(() => stack.close());

const produce = (topic: string, body: unknown, headers: Record<string, string> = {}) =>
  stack.api.request('POST', `/v1/topics/${topic}/records`, body, headers);
const fetchRecords = (topic: string, partition: number, query = '') =>
  stack.api.get(`/v1/topics/${topic}/partitions/${partition}/records${query ? `?${query}` : ''}`);

describe('produce and fetch', () => {
  it('round-trips values, keys, headers, nulls and timestamps in offset order', async () => {
    const res = await produce('events', {
      records: [
        { key: 'k1', value: 'hello', headers: [{ key: 'trace', value: 'abc' }], timestamp: 1_700_000_000_000 },
        { key: null, value: null },
        { value: 'ünïcödé ✓' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.offsets.map((o: any) => [o.partition, o.offset])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
    ]);
    expect(res.body.offsets[0].timestamp).toBe(1_700_000_000_000);
    // No producer timestamp: the append time, close to now.
    expect(Math.abs(res.body.offsets[1].timestamp - Date.now())).toBeLessThan(60_000);

    const fetched = await fetchRecords('events', 0);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toMatchObject({ nextOffset: 3, highWatermark: 3, logStartOffset: 0 });
    expect(fetched.body.records).toEqual([
      { offset: 0, timestamp: 1_700_000_000_000, key: 'k1', value: 'hello', headers: [{ key: 'trace', value: 'abc' }] },
      { offset: 1, timestamp: res.body.offsets[1].timestamp, key: null, value: null, headers: [] },
      { offset: 2, timestamp: res.body.offsets[2].timestamp, key: null, value: 'ünïcödé ✓', headers: [] },
    ]);
  });

  it('supports base64 for binary keys, values and header values on produce and fetch', async () => {
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
    const res = await produce('events', {
      encoding: 'base64',
      records: [
        { key: bytes.toString('base64'), value: bytes.toString('base64'), headers: [{ key: 'h', value: 'AAE=' }] },
      ],
    });
    expect(res.status).toBe(200);
    const offset = res.body.offsets[0].offset;
    const fetched = await fetchRecords('events', 0, `offset=${offset}&encoding=base64`);
    expect(fetched.body.records[0]).toMatchObject({
      offset,
      key: bytes.toString('base64'),
      value: bytes.toString('base64'),
      headers: [{ key: 'h', value: 'AAE=' }],
    });
  });

  it('puts keyed records on the partition Kafka’s default partitioner picks', async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `user-${i}`);
    const res = await produce('keyed', { records: keys.map((key) => ({ key, value: key })) });
    expect(res.status).toBe(200);
    keys.forEach((key, i) => {
      expect(res.body.offsets[i].partition).toBe(partitionForKey(new TextEncoder().encode(key), 12));
    });
    // The vector from Kafka's tests: murmur2("abc") = 479470107.
    const abc = await produce('keyed', { records: [{ key: 'abc', value: 'x' }] });
    expect(abc.body.offsets[0].partition).toBe(479470107 % 12);
    // And the records are really there, on that partition, in order.
    const p = res.body.offsets[0].partition;
    const onP = keys.filter((_, i) => res.body.offsets[i].partition === p);
    const fetched = await fetchRecords('keyed', p);
    expect(fetched.body.records.map((r: any) => r.value).slice(0, onP.length)).toEqual(onP);
  });

  it('honours an explicit partition and keeps keyless records of one request together', async () => {
    const res = await produce('wide', {
      records: [{ value: 'a', partition: 7 }, { value: 'b' }, { value: 'c' }, { value: 'd', partition: 7 }],
    });
    expect(res.status).toBe(200);
    expect(res.body.offsets[0].partition).toBe(7);
    expect(res.body.offsets[3].partition).toBe(7);
    expect(res.body.offsets[1].partition).toBe(res.body.offsets[2].partition);
    expect(res.body.offsets[2].offset).toBe(res.body.offsets[1].offset + 1);
  });

  it('writes one S3 object for a large request touching many partitions, none for a small one', async () => {
    await produce('wide', { records: Array.from({ length: 10 }, (_, i) => ({ value: 'w', partition: i })) });
    stack.calls.reset();
    const small = await produce('wide', {
      records: Array.from({ length: 10 }, (_, i) => ({ value: 'x', partition: i })),
    });
    expect(small.status).toBe(200);
    expect(stack.calls.get('S3.PutObject')).toBe(0);
    expect(stack.calls.get('DynamoDB.PutItem')).toBe(10);

    stack.calls.reset();
    const value = 'v'.repeat(4000);
    const large = await produce('wide', {
      records: Array.from({ length: 30 }, (_, i) => ({ value, partition: i % 10 })),
    });
    expect(large.status).toBe(200);
    expect(stack.calls.get('S3.PutObject')).toBe(1);
    // Per partition, one writer alone: a read of its tail (Query) and one entry (PutItem) at
    // the tail's end. Its counter (none) was read by this instance's first append there: no
    // GetItem per partition, only the topic's validation (and the API key's lookup, cached).
    expect(stack.calls.get('DynamoDB.PutItem')).toBe(10);
    // + a read of the tenant's usage shards when this instance's knowledge is older than 200 ms.
    expect(stack.calls.get('DynamoDB.Query')).toBeGreaterThanOrEqual(10);
    expect(stack.calls.get('DynamoDB.Query')).toBeLessThanOrEqual(11);
    expect(stack.calls.get('DynamoDB.GetItem')).toBeLessThanOrEqual(2);

    // Reading one partition's batch back is one ranged GET.
    stack.calls.reset();
    const p3 = large.body.offsets[3];
    const fetched = await fetchRecords('wide', 3, `offset=${p3.offset}`);
    expect(fetched.body.records.map((r: any) => r.value)).toEqual([value, value, value]);
    expect(stack.calls.get('S3.GetObject')).toBe(1);
  });

  it('resolves earliest and latest, pages with maxRecords and resumes mid-batch', async () => {
    await produce('timed', { records: Array.from({ length: 10 }, (_, i) => ({ value: `r${i}` })) });
    const first = await fetchRecords('timed', 0, 'offset=earliest&maxRecords=4');
    expect(first.body.records.map((r: any) => r.value)).toEqual(['r0', 'r1', 'r2', 'r3']);
    expect(first.body.nextOffset).toBe(4);
    const second = await fetchRecords('timed', 0, `offset=${first.body.nextOffset}&maxRecords=4`);
    expect(second.body.records.map((r: any) => r.offset)).toEqual([4, 5, 6, 7]);
    const latest = await fetchRecords('timed', 0, 'offset=latest');
    expect(latest.body).toMatchObject({ records: [], nextOffset: 10, highWatermark: 10 });
  });

  it('stops at maxBytes but always returns at least one record', async () => {
    await stack.api.post('/v1/topics', { name: 'sized', partitions: 1 });
    await produce('sized', { records: Array.from({ length: 5 }, () => ({ value: 'x'.repeat(100) })) });
    const twoAndAHalf = await fetchRecords('sized', 0, 'maxBytes=250');
    expect(twoAndAHalf.body.records).toHaveLength(2);
    expect(twoAndAHalf.body.nextOffset).toBe(2);
    const tiny = await fetchRecords('sized', 0, 'offset=2&maxBytes=1');
    expect(tiny.body.records).toHaveLength(1);
    expect(tiny.body.nextOffset).toBe(3);
  });

  it('answers 416 with the log bounds for an offset outside the log', async () => {
    const res = await fetchRecords('timed', 0, 'offset=11');
    expect(res.status).toBe(416);
    expect(res.body).toMatchObject({ code: 'offset_out_of_range', logStartOffset: 0, highWatermark: 10 });
  });

  it('long-polls until a record arrives', async () => {
    await stack.api.post('/v1/topics', { name: 'poll', partitions: 1 });
    const began = nextLongPollWait(stack);
    const waiting = fetchRecords('poll', 0, 'offset=0&waitMs=20000');
    // The server waits instead of answering the empty partition at once.
    expect(await Promise.race([began.then(() => 'waiting'), waiting.then(() => 'answered')])).toBe('waiting');
    // Produced while the poll waits: the poll answers with it.
    expect((await produce('poll', { records: [{ value: 'late' }] })).status).toBe(200);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.body.records.map((r: any) => r.value)).toEqual(['late']);
  });

  it('returns an empty page when a long poll times out', async () => {
    const began = nextLongPollWait(stack);
    // A wait ends on its own timer (the long poll's design): nothing to move but the wait itself.
    const waiting = fetchRecords('poll', 0, 'offset=latest&waitMs=150');
    expect(await Promise.race([began.then(() => 'waiting'), waiting.then(() => 'answered')])).toBe('waiting');
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.body.records).toEqual([]);
  });

  it('finds offsets by timestamp (ListOffsets)', async () => {
    await stack.api.post('/v1/topics', { name: 'clock', partitions: 1 });
    await produce('clock', { records: [100, 200, 300].map((timestamp) => ({ value: `t${timestamp}`, timestamp })) });
    await produce('clock', { records: [400, 500].map((timestamp) => ({ value: `t${timestamp}`, timestamp })) });
    const at = async (t: number) =>
      (await stack.api.get(`/v1/topics/clock/partitions/0/offsets?timestamp=${t}`)).body.offset;
    expect(await at(0)).toBe(0);
    expect(await at(150)).toBe(1);
    expect(await at(300)).toBe(2);
    expect(await at(301)).toBe(3);
    expect(await at(500)).toBe(4);
    expect(await at(501)).toBe(5);
  });
});

describe('bad input changes nothing', () => {
  const hw = async (topic: string) => (await stack.api.get(`/v1/topics/${topic}`)).body.partitionStates;

  it.each([
    [{ records: [] }, 400, 'invalid_request'],
    [{ records: [{ value: 1 }] }, 400, 'invalid_request'],
    [{ records: [{ value: 'x', partition: -1 }] }, 400, 'invalid_request'],
    [{ records: [{ value: 'x', partition: 1.5 }] }, 400, 'invalid_request'],
    [{ records: [{ value: 'x', timestamp: -5 }] }, 400, 'invalid_request'],
    [{ records: [{ value: 'x', extra: 1 }] }, 400, 'invalid_request'],
    [{ records: [{ value: 'x' }], encoding: 'hex' }, 400, 'invalid_request'],
    [{ records: [{ value: 'not base64!' }], encoding: 'base64' }, 400, 'invalid_request'],
    [{ records: [{ value: 'x', headers: [{ key: 'a' }] }] }, 400, 'invalid_request'],
    [{ records: [{ value: 'ok' }, { value: 'x', partition: 99 }] }, 404, 'partition_not_found'],
    [{ records: [{ value: 'x' }], producerId: 'p' }, 400, 'invalid_request'],
    ['{"records": [', 400, 'invalid_request'],
  ])('refuses %j', async (body, status, code) => {
    const before = await hw('wide');
    const res = await produce('wide', body);
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    expect(await hw('wide')).toEqual(before);
  });

  it('refuses a record over 1 MiB with 413 record_too_large and writes none of the request', async () => {
    const before = await hw('big');
    const res = await produce('big', { records: [{ value: 'ok' }, { value: 'x'.repeat(1024 * 1024 + 1) }] });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'record_too_large', index: 1 });
    expect(await hw('big')).toEqual(before);
  });

  it('refuses a body over 6 MiB with 413 request_too_large', async () => {
    const value = 'x'.repeat(1024 * 1024 - 100);
    const res = await produce('big', { records: Array.from({ length: 7 }, () => ({ value })) });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('request_too_large');
  });

  it('refuses more than 10,000 records with 413 request_too_large', async () => {
    const before = await hw('big');
    const res = await produce('big', { records: Array.from({ length: 10_001 }, () => ({ value: null })) });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('request_too_large');
    expect(await hw('big')).toEqual(before);
  });

  it('refuses bad fetch parameters instead of clamping them', async () => {
    for (const query of [
      'maxRecords=0',
      'maxRecords=10001',
      'maxBytes=0',
      'waitMs=20001',
      'waitMs=-1',
      'offset=-1',
      'offset=abc',
      'offset=1.5',
      'encoding=hex',
      'offset=99999999999999999999',
    ]) {
      const res = await fetchRecords('events', 0, query);
      expect(res.status, query).toBe(400);
      expect(res.body.code, query).toBe('invalid_request');
    }
  });

  it('answers an unknown partition or topic with 404', async () => {
    expect((await fetchRecords('events', 1)).body.code).toBe('partition_not_found');
    expect((await fetchRecords('events', 1)).status).toBe(404);
    expect((await fetchRecords('nope', 0)).body.code).toBe('topic_not_found');
    expect((await produce('nope', { records: [{ value: 'x' }] })).status).toBe(404);
    expect((await stack.api.get('/v1/topics/events/partitions/0/offsets')).status).toBe(400);
  });
});
