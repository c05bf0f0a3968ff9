import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retryDelayMs } from '#shared/domain/connectors/delivery';
import { STRICT_DESTINATIONS } from '#shared/domain/connectors/destination';
import { partitionForKey } from '#shared/domain/partitioner';
import type { ConnectorWorker } from '#shared/services/connectors/worker';
import { crashOnce, fakeDns, manualClock, startReceiver, workerFor } from './connector-fixtures';
import { type Api, apiClient, OPERATOR_KEY, type Stack, startStack } from './harness';

/*
 * The connector runtime on the real local stack, driven pass by pass with a manual
 * clock: rates, backoff, batching and leases are decided by the clock the test moves,
 * never by waiting. A "killed" worker is one stopped for good at a crash point (its
 * step never finishes); another worker takes over once the lease has run out.
 */

const clock = manualClock();
let stack: Stack;
let api: Api;
const LEASE_MS = 30_000;

beforeAll(async () => {
  stack = await startStack({
    clock: clock.now,
    connectorPolicy: {
      destinations: { allowLoopback: true, requireHttps: false },
      requireRoleArn: false,
      resolve: fakeDns({ 'rebind.example.com': ['93.184.216.34'], 'receiver.test': ['127.0.0.1'] }),
      reservedBuckets: ['runnel-segments'],
    },
  });
  api = stack.api;
});
afterAll(() => stack.close());

const utf8 = new TextEncoder();

/** Every record of a topic, partition by partition. */
const readTopic = async (topic: string) => {
  const described = await api.get(`/v1/topics/${topic}`);
  const records: { partition: number; offset: number; key: string; value: string; headers: any[] }[] = [];
  for (let p = 0; p < described.body.partitions; p++) {
    let offset = 0;
    for (;;) {
      const res = await api.get(`/v1/topics/${topic}/partitions/${p}/records?offset=${offset}&maxRecords=10000`);
      expect(res.status).toBe(200);
      for (const r of res.body.records) records.push({ partition: p, ...r });
      if (res.body.records.length === 0 || res.body.nextOffset >= res.body.highWatermark) break;
      offset = res.body.nextOffset;
    }
  }
  return records;
};

const connector = async (name: string) => (await api.get(`/v1/connectors/${name}`)).body;

const groupLag = async (name: string) => {
  const res = await api.get(`/v1/groups/connect-${name}`);
  if (res.status !== 200) return undefined;
  return res.body.partitions.map((p: { lag: number | null }) => p.lag);
};

/** Passes of `worker`, the clock moving `stepMs` after each, until `done` (bounded, so a stuck sink fails). */
const runUntil = async (worker: ConnectorWorker, done: () => Promise<boolean>, stepMs = 1000, maxPasses = 200) => {
  for (let pass = 0; pass < maxPasses; pass++) {
    await worker.runOnce();
    if (await done()) return pass + 1;
    clock.advance(stepMs);
  }
  throw new Error('the connector did not get there');
};

const produce = async (topic: string, count: number, from = 0) => {
  const records = Array.from({ length: count }, (_, i) => ({ key: `k${(from + i) % 10}`, value: `v${from + i}` }));
  const res = await api.post(`/v1/topics/${topic}/records`, { records });
  expect(res.status).toBe(200);
};

describe('datagen', () => {
  it('fills a topic at its rate, keyed by the natural key, and completes at maxRecords', async () => {
    await api.post('/v1/topics', { name: 'gen-orders', partitions: 3 });
    const created = await api.post('/v1/connectors', {
      name: 'gen-orders',
      kind: 'datagen',
      config: { topic: 'gen-orders', template: 'orders', recordsPerSecond: 50, maxRecords: 120 },
    });
    expect(created.status).toBe(201);
    const worker = workerFor(stack);
    await worker.runOnce();
    expect(await readTopic('gen-orders')).toHaveLength(0);
    clock.advance(1000);
    await worker.runOnce();
    expect(await readTopic('gen-orders')).toHaveLength(50);
    clock.advance(1000);
    await worker.runOnce();
    expect(await readTopic('gen-orders')).toHaveLength(100);
    expect((await connector('gen-orders')).status.records).toBe(100);
    clock.advance(1000);
    await worker.runOnce();
    clock.advance(5000);
    await worker.runOnce();
    const records = await readTopic('gen-orders');
    expect(records).toHaveLength(120);
    expect(await connector('gen-orders')).toMatchObject({ state: 'completed', status: { records: 120 } });
    const orderIds = records.map((r) => JSON.parse(r.value).orderid);
    expect(new Set(orderIds).size).toBe(120);
    for (const r of records) {
      const value = JSON.parse(r.value);
      expect(r.key).toBe(String(value.orderid));
      expect(r.partition).toBe(partitionForKey(utf8.encode(r.key), 3));
      expect(value).toMatchObject({
        itemid: expect.stringMatching(/^Item_\d+$/),
        address: { city: expect.any(String) },
      });
    }
    await api.delete('/v1/connectors/gen-orders');
  });

  it('keys every template by its natural key', async () => {
    const keyField = { users: 'userid', pageviews: 'userid', 'stock-trades': 'symbol' } as const;
    for (const template of Object.keys(keyField) as (keyof typeof keyField)[]) {
      await api.post('/v1/topics', { name: `gen-${template}`, partitions: 2 });
      await api.post('/v1/connectors', {
        name: `gen-${template}`,
        kind: 'datagen',
        config: { topic: `gen-${template}`, template, recordsPerSecond: 20, maxRecords: 20 },
      });
    }
    const worker = workerFor(stack);
    await worker.runOnce();
    clock.advance(1000);
    await worker.runOnce();
    for (const [template, field] of Object.entries(keyField)) {
      const records = await readTopic(`gen-${template}`);
      expect(records, template).toHaveLength(20);
      for (const r of records) expect(r.key).toBe(JSON.parse(r.value)[field]);
      await api.delete(`/v1/connectors/gen-${template}`);
    }
  });

  it('produces no duplicates when workers are killed before and after producing', async () => {
    await api.post('/v1/topics', { name: 'gen-crash', partitions: 2 });
    await api.post('/v1/connectors', {
      name: 'gen-crash',
      kind: 'datagen',
      config: { topic: 'gen-crash', template: 'orders', recordsPerSecond: 20, maxRecords: 60 },
    });
    // Killed after planning the batch, before producing it.
    const planned = crashOnce('datagen:planned', 'gen-crash');
    const first = workerFor(stack, { afterStep: planned.afterStep });
    await first.runOnce();
    clock.advance(1000);
    void first.runOnce();
    await planned.reached;
    // Killed after producing, before recording it: the retry must not append it again.
    clock.advance(LEASE_MS + 1);
    const produced = crashOnce('datagen:produced', 'gen-crash');
    void workerFor(stack, { afterStep: produced.afterStep }).runOnce();
    await produced.reached;
    expect(await readTopic('gen-crash')).toHaveLength(20);
    clock.advance(LEASE_MS + 1);
    const survivor = workerFor(stack);
    await runUntil(survivor, async () => (await connector('gen-crash')).state === 'completed');
    const records = await readTopic('gen-crash');
    expect(records).toHaveLength(60);
    expect(new Set(records.map((r) => JSON.parse(r.value).orderid))).toEqual(
      new Set(Array.from({ length: 60 }, (_, i) => i + 1)),
    );
    await api.delete('/v1/connectors/gen-crash');
  });
});

describe('registrations', () => {
  it('drops a registration left without its connector by a crash, but not one whose create is under way', async () => {
    const doc = DynamoDBDocumentClient.from(stack.emulators.dynamodb);
    const TableName = stack.emulators.storage.tables.metadata;
    const register = (name: string, registeredAt: number) =>
      doc.send(
        new PutCommand({
          TableName,
          Item: { pk: 'CONNECTORS', sk: `${stack.tenantId}#${name}`, tenantId: stack.tenantId, name, registeredAt },
        }),
      );
    await register('orphan', clock.now() - 120_000);
    await register('being-created', clock.now());
    await workerFor(stack).runOnce();
    const names = (await stack.deps.connectors.registered()).map((r) => r.name);
    expect(names).not.toContain('orphan');
    expect(names).toContain('being-created');
    await stack.deps.connectors.unregister({ tenantId: stack.tenantId, name: 'being-created' });
  });
});

describe('quotas', () => {
  it('counts what a datagen connector produces against the tenant’s storage quota', async () => {
    const operator = apiClient(stack.app, OPERATOR_KEY);
    const tenant = await operator.post('/admin/v1/tenants', { name: 'tight', quotas: { maxStorageBytes: 2000 } });
    expect(tenant.status).toBe(201);
    const tight = apiClient(stack.app, tenant.body.apiKey);
    await tight.post('/v1/topics', { name: 'gen-tight', partitions: 1 });
    await tight.post('/v1/connectors', {
      name: 'gen-tight',
      kind: 'datagen',
      config: { topic: 'gen-tight', template: 'users', recordsPerSecond: 50 },
    });
    const worker = workerFor(stack);
    await worker.runOnce();
    // Storage is checked before a write (as for a client's produce): the first batch fits, the next does not.
    clock.advance(1000);
    await worker.runOnce();
    clock.advance(1000);
    await worker.runOnce();
    const described = (await tight.get('/v1/connectors/gen-tight')).body;
    expect(described).toMatchObject({ state: 'running', status: { records: 50 } });
    expect(described.status.lastError).toMatch(/stores its maximum of 2000 bytes/);
    expect((await tight.get('/v1/topics/gen-tight/partitions/0/records')).body.records).toHaveLength(50);
    await tight.delete('/v1/connectors/gen-tight');
  });
});

describe('http-sink', () => {
  it('retries 500s with backoff, honours Retry-After, then delivers everything in order per partition', async () => {
    await api.post('/v1/topics', { name: 'hook-in', partitions: 2 });
    await produce('hook-in', 30);
    const receiver = await startReceiver(
      (n) => (n <= 3 ? { status: 500 } : n === 4 ? { status: 429, headers: { 'Retry-After': '7' } } : { status: 200 }),
      clock.now,
    );
    try {
      const created = await api.post('/v1/connectors', {
        name: 'hook',
        kind: 'http-sink',
        config: {
          topics: ['hook-in'],
          url: receiver.url,
          headers: { Authorization: 'Bearer hook-secret' },
          batchMaxRecords: 8,
          batchMaxWaitMs: 0,
        },
      });
      expect(created.status).toBe(201);
      const worker = workerFor(stack);
      await runUntil(worker, async () => (await groupLag('hook'))?.every((lag: number) => lag === 0) ?? false, 250);
      const attempts = receiver.requests.map((r) => r.at);
      // Exponential backoff after each 500, then the receiver's Retry-After (7 s, longer than the 4 s backoff).
      for (let i = 1; i <= 3; i++) {
        expect((attempts[i] as number) - (attempts[i - 1] as number)).toBeGreaterThanOrEqual(
          retryDelayMs(i, undefined),
        );
      }
      expect((attempts[4] as number) - (attempts[3] as number)).toBeGreaterThanOrEqual(7000);
      expect((attempts[4] as number) - (attempts[3] as number)).toBeLessThan(7000 + 1000);
      for (const request of receiver.requests) {
        expect(request.headers.authorization).toBe('Bearer hook-secret');
        expect(request.records.length).toBeLessThanOrEqual(8);
        for (const p of [0, 1]) {
          const offsets = request.records.filter((r) => r.partition === p).map((r) => r.offset);
          expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
        }
      }
      const delivered = receiver.requests.slice(4).flatMap((r) => r.records);
      const topic = await readTopic('hook-in');
      for (const p of [0, 1]) {
        expect(delivered.filter((r) => r.partition === p).map((r) => r.offset)).toEqual(
          topic.filter((r) => r.partition === p).map((r) => r.offset),
        );
      }
      expect(delivered.map((r) => r.value).sort()).toEqual(topic.map((r) => r.value).sort());
      expect(await connector('hook')).toMatchObject({ state: 'running', status: { records: 30 } });
      expect(JSON.stringify(await connector('hook'))).not.toContain('hook-secret');
    } finally {
      await receiver.close();
      await api.delete('/v1/connectors/hook');
    }
  });

  it('redelivers after a worker is killed mid-batch, and loses nothing', async () => {
    await api.post('/v1/topics', { name: 'hook-crash', partitions: 2 });
    await produce('hook-crash', 20);
    const receiver = await startReceiver(() => ({ status: 204 }), clock.now);
    try {
      await api.post('/v1/connectors', {
        name: 'hook-crash',
        kind: 'http-sink',
        config: { topics: ['hook-crash'], url: receiver.url, batchMaxRecords: 6, batchMaxWaitMs: 0 },
      });
      const crash = crashOnce('http:delivered', 'hook-crash');
      void workerFor(stack, { afterStep: crash.afterStep }).runOnce();
      await crash.reached;
      expect(receiver.requests).toHaveLength(1);
      const first = receiver.requests[0]?.records ?? [];
      clock.advance(LEASE_MS + 1);
      await runUntil(
        workerFor(stack),
        async () => (await groupLag('hook-crash'))?.every((l: number) => l === 0) ?? false,
      );
      const later = receiver.requests.slice(1).flatMap((r) => r.records);
      // At least once: the batch whose commit was lost comes again, first.
      expect(later.slice(0, first.length)).toEqual(first);
      const all = receiver.requests.flatMap((r) => r.records);
      expect(new Set(all.map((r) => `${r.partition}:${r.offset}`)).size).toBe(20);
    } finally {
      await receiver.close();
      await api.delete('/v1/connectors/hook-crash');
    }
  });

  it('sends a batch that keeps failing to the dead-letter topic, and moves on', async () => {
    await api.post('/v1/topics', { name: 'hook-dl-in', partitions: 1 });
    await api.post('/v1/topics', { name: 'hook-dl', partitions: 1 });
    await produce('hook-dl-in', 5);
    const receiver = await startReceiver(() => ({ status: 503 }), clock.now);
    try {
      await api.post('/v1/connectors', {
        name: 'hook-dl',
        kind: 'http-sink',
        config: {
          topics: ['hook-dl-in'],
          url: receiver.url,
          batchMaxWaitMs: 0,
          maxRetries: 2,
          deadLetterTopic: 'hook-dl',
        },
      });
      await runUntil(workerFor(stack), async () => (await groupLag('hook-dl'))?.every((l: number) => l === 0) ?? false);
      expect(receiver.requests).toHaveLength(3);
      const dead = await readTopic('hook-dl');
      expect(dead.map((r) => r.value)).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
      expect(dead[0]?.headers).toEqual(
        expect.arrayContaining([
          { key: 'runnel.topic', value: 'hook-dl-in' },
          { key: 'runnel.offset', value: '0' },
        ]),
      );
      expect(await connector('hook-dl')).toMatchObject({
        state: 'running',
        status: { records: 5, lastError: expect.stringContaining('HTTP 503') },
      });
    } finally {
      await receiver.close();
      await api.delete('/v1/connectors/hook-dl');
    }
  });

  it('turns failed with lastError after maxRetries without a dead-letter topic, committing nothing', async () => {
    await api.post('/v1/topics', { name: 'hook-fail-in', partitions: 1 });
    await produce('hook-fail-in', 3);
    const receiver = await startReceiver(() => ({ status: 503 }), clock.now);
    try {
      await api.post('/v1/connectors', {
        name: 'hook-fail',
        kind: 'http-sink',
        config: { topics: ['hook-fail-in'], url: receiver.url, batchMaxWaitMs: 0, maxRetries: 1 },
      });
      await runUntil(workerFor(stack), async () => (await connector('hook-fail')).state === 'failed');
      expect(receiver.requests).toHaveLength(2);
      expect((await connector('hook-fail')).status).toMatchObject({
        records: 0,
        lastError: expect.stringContaining('Gave up after 2 attempt(s)'),
      });
      const group = await api.get('/v1/groups/connect-hook-fail');
      expect(group.status === 404 || group.body.partitions.every((p: { lag: number | null }) => p.lag !== 0)).toBe(
        true,
      );
      // Resumed, it retries the same records: nothing was lost.
      await api.patch('/v1/connectors/hook-fail', { state: 'running' });
      clock.advance(LEASE_MS + 1);
      await workerFor(stack).runOnce();
      expect(receiver.requests[2]?.records.map((r) => r.offset)).toEqual([0, 1, 2]);
    } finally {
      await receiver.close();
      await api.delete('/v1/connectors/hook-fail');
    }
  });

  it('connects a host name to the addresses that were checked, not to a second DNS answer', async () => {
    await api.post('/v1/topics', { name: 'hook-dns-in', partitions: 1 });
    await produce('hook-dns-in', 3);
    const receiver = await startReceiver(() => ({ status: 200 }), clock.now);
    try {
      const url = receiver.url.replace('127.0.0.1', 'receiver.test');
      const created = await api.post('/v1/connectors', {
        name: 'hook-dns',
        kind: 'http-sink',
        config: { topics: ['hook-dns-in'], url, batchMaxWaitMs: 0 },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      // receiver.test exists in no DNS: only the injected resolver's checked answer can reach the receiver.
      const worker = workerFor(stack, { resolve: fakeDns({ 'receiver.test': ['127.0.0.1'] }) });
      await runUntil(worker, async () => (await groupLag('hook-dns'))?.every((l: number) => l === 0) ?? false);
      expect(receiver.requests.flatMap((r) => r.records.map((x) => x.value))).toEqual(['v0', 'v1', 'v2']);
      expect(receiver.requests[0]?.headers.host).toBe(new URL(url).host);
    } finally {
      await receiver.close();
      await api.delete('/v1/connectors/hook-dns');
    }
  });

  it('refuses at delivery a host that now resolves to a private address (DNS rebinding)', async () => {
    await api.post('/v1/topics', { name: 'hook-rebind-in', partitions: 1 });
    await produce('hook-rebind-in', 2);
    const created = await api.post('/v1/connectors', {
      name: 'hook-rebind',
      kind: 'http-sink',
      config: { topics: ['hook-rebind-in'], url: 'https://rebind.example.com/x', batchMaxWaitMs: 0 },
    });
    expect(created.status).toBe(201);
    let posts = 0;
    const worker = workerFor(stack, {
      destinations: STRICT_DESTINATIONS,
      resolve: fakeDns({ 'rebind.example.com': ['10.0.0.7'] }),
      httpPost: async () => {
        posts++;
        return { status: 200, retryAfter: undefined };
      },
    });
    await worker.runOnce();
    expect(posts).toBe(0);
    expect(await connector('hook-rebind')).toMatchObject({
      state: 'failed',
      status: { lastError: expect.stringContaining('private') },
    });
    await api.delete('/v1/connectors/hook-rebind');
  });
});

describe('s3-sink', () => {
  const readObjects = async (bucket: string) => {
    const objects: { key: string; lines: any[] }[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await stack.emulators.s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken }));
      for (const o of page.Contents ?? []) {
        const got = await stack.emulators.s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
        const bytes = await got.Body?.transformToByteArray();
        const lines = gunzipSync(Buffer.from(bytes ?? []))
          .toString('utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        objects.push({ key: o.Key as string, lines });
      }
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken);
    return objects;
  };

  it('writes 10,000 records into objects that hold each exactly once, across two killed workers', async () => {
    await api.post('/v1/topics', { name: 's3-in', partitions: 2 });
    await produce('s3-in', 5000, 0);
    await produce('s3-in', 5000, 5000);
    const created = await api.post('/v1/connectors', {
      name: 's3-out',
      kind: 's3-sink',
      config: {
        topics: ['s3-in'],
        bucket: 'tenant-sink',
        prefix: 'raw/',
        flushMaxBytes: 16 * 1024,
        flushMaxMs: 60_000,
      },
    });
    expect(created.status).toBe(201);
    // Killed after writing an object, before committing it; then after committing, before clearing its plan.
    const written = crashOnce('s3:written', 's3-out');
    void workerFor(stack, { afterStep: written.afterStep }).runOnce();
    await written.reached;
    clock.advance(LEASE_MS + 1);
    const committed = crashOnce('s3:committed', 's3-out');
    const second = workerFor(stack, { afterStep: committed.afterStep });
    void (async () => {
      for (;;) await second.runOnce();
    })();
    await committed.reached;
    clock.advance(LEASE_MS + 1);
    await runUntil(
      workerFor(stack),
      async () => (await groupLag('s3-out'))?.every((l: number) => l === 0) ?? false,
      20_000,
    );
    const objects = await readObjects('tenant-sink');
    const seen = new Map<string, number>();
    for (const o of objects) {
      const match = o.key.match(/^raw\/topic=s3-in\/partition=(\d)\/date=\d{4}-\d{2}-\d{2}\/(\d+)-(\d+)\.jsonl\.gz$/);
      expect(match, o.key).not.toBeNull();
      const [, partition, first, last] = match as RegExpMatchArray;
      expect(o.lines.every((l) => l.partition === Number(partition))).toBe(true);
      expect(o.lines[0].offset).toBe(Number(first));
      expect(o.lines.at(-1).offset).toBe(Number(last));
      for (const l of o.lines)
        seen.set(`${l.partition}:${l.offset}`, (seen.get(`${l.partition}:${l.offset}`) ?? 0) + 1);
    }
    expect(seen.size).toBe(10_000);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(objects.length).toBeGreaterThan(4);
    expect((await connector('s3-out')).status.records).toBeGreaterThanOrEqual(10_000);
    await api.delete('/v1/connectors/s3-out');
  });
});
