import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '#shared/domain/seeded-random';
import { apiClient, OPERATOR_KEY, type Stack, startStack } from './harness';

/**
 * Invariant 7 over every route the app has: seeded random garbage in path parameters,
 * query strings and bodies must get a 4xx problem (or a success), never a 5xx.
 * Routes come from the app itself, so a new route is fuzzed without touching this file.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
  await stack.api.post('/v1/topics', { name: 'fuzz', partitions: 2 });
  await stack.api.post('/v1/topics/fuzz/records', { records: [{ key: 'k', value: 'v' }] });
});
afterAll(() => stack.close());

const SEED = 20261122;
const random = mulberry32(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const segments = [
  'fuzz',
  '0',
  '1',
  '-1',
  '999999999999999999999',
  '1e3',
  'x'.repeat(300),
  '%00',
  '%2F',
  '..',
  'ünï',
  '%F0%9F%98%80',
  'NaN',
  'null',
  'a b',
];
const scalars: unknown[] = [null, true, 0, -1, 1.5, 1e308, -1e308, '', 'x', 'x'.repeat(5000), [], {}, [null], { a: 1 }];

const randomValue = (depth = 0): unknown => {
  const r = random();
  if (depth > 3 || r < 0.5) return pick(scalars);
  if (r < 0.75) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1));
  const keys = [
    'name',
    'partitions',
    'retentionMs',
    'records',
    'key',
    'value',
    'headers',
    'partition',
    'timestamp',
    'encoding',
    'producerId',
    'sequence',
    'topics',
    'sessionTimeoutMs',
    'autoOffsetReset',
    'memberId',
    'generation',
    'offsets',
    'topic',
    'offset',
    'metadata',
    'permissions',
    'resource',
    'actions',
    'quotas',
    'extra',
  ];
  return Object.fromEntries(
    Array.from({ length: Math.floor(random() * 5) }, () => [pick(keys), randomValue(depth + 1)]),
  );
};

const queryKeys = ['offset', 'maxRecords', 'maxBytes', 'waitMs', 'encoding', 'timestamp', 'topic'];
const randomQuery = () =>
  Array.from(
    { length: Math.floor(random() * 3) },
    () =>
      `${pick(queryKeys)}=${encodeURIComponent(String(pick([...segments, 'earliest', 'latest', 'base64', '20001', '0'])))}`,
  ).join('&');

describe('fuzzing every route', () => {
  it('never answers 5xx to seeded random input', async () => {
    const routes = stack.app.routes.filter((r) => r.method !== 'ALL' && !r.path.includes('*'));
    expect(routes.length).toBeGreaterThan(20);
    const operator = apiClient(stack.app, OPERATOR_KEY);
    const failures: string[] = [];
    let calls = 0;
    for (let round = 0; round < 25; round++) {
      for (const route of routes) {
        const path = route.path.replace(/:[^/]+/g, () => pick(segments));
        const query = randomQuery();
        const url = query ? `${path}?${query}` : path;
        const client = path.startsWith('/admin') ? operator : stack.api;
        const body = ['POST', 'PATCH', 'PUT'].includes(route.method)
          ? random() < 0.15
            ? '{"broken": '
            : randomValue()
          : undefined;
        const headers: Record<string, string> = random() < 0.2 ? { 'Idempotency-Key': pick(segments) } : {};
        const res = await client.request(route.method, url, body, headers);
        calls++;
        if (res.status >= 500)
          failures.push(
            `${route.method} ${url} ${JSON.stringify(body)?.slice(0, 200)} → ${res.status} ${JSON.stringify(res.body)}`,
          );
        else if (res.status >= 400) {
          expect(res.headers.get('content-type'), `${route.method} ${url}`).toContain('application/problem+json');
          expect(typeof res.body.code).toBe('string');
        }
      }
    }
    expect(calls).toBeGreaterThan(100);
    expect(failures).toEqual([]);
  }, 120_000);
});
