import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEARTBEAT_ITEM_KEPT_MS } from '#shared/adapters/dynamodb/group-store';
import { type Stack, startStack } from './harness';

/**
 * Departed members' heartbeat items do not pile up: a membership change deletes those
 * whose last deadline (or fence) is older than HEARTBEAT_ITEM_KEPT_MS, and keeps every
 * other one. The clock stands still unless the test moves it.
 */
let stack: Stack;
let now = 1_800_000_000_000;
beforeAll(async () => {
  stack = await startStack({ clock: () => now });
});
afterAll(() => stack.close());

const SESSION_MS = 60_000;

/** The group's heartbeat items, by member id, read straight from the metadata table. */
const heartbeatItems = async (group: string): Promise<Record<string, Record<string, unknown>>> => {
  const page = await DynamoDBDocumentClient.from(stack.emulators.dynamodb).send(
    new QueryCommand({
      TableName: stack.emulators.storage.tables.metadata,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': `TENANT#${stack.tenantId}`, ':prefix': `HEARTBEAT#${group}#` },
      ConsistentRead: true,
    }),
  );
  const prefix = `HEARTBEAT#${group}#`;
  return Object.fromEntries((page.Items ?? []).map((i) => [String(i.sk).slice(prefix.length), i]));
};

const join = async (group: string): Promise<string> => {
  const res = await stack.api.post(`/v1/groups/${group}/members`, { topics: ['t'], sessionTimeoutMs: SESSION_MS });
  expect(res.status).toBe(200);
  return res.body.memberId;
};
const heartbeat = async (group: string, memberId: string) =>
  (await stack.api.post(`/v1/groups/${group}/members/${memberId}/heartbeat`, {})).status;

/** Moves the clock by `ms` in steps of half a session, heartbeating `live` at each step. */
const advance = async (ms: number, group: string, live: string[]) => {
  for (let left = ms; left > 0; left -= SESSION_MS / 2) {
    now += Math.min(left, SESSION_MS / 2);
    for (const m of live) expect(await heartbeat(group, m)).toBe(200);
  }
};

describe('heartbeat items of departed members', () => {
  it('are deleted by a membership change once old enough, and only they', async () => {
    expect((await stack.api.post('/v1/topics', { name: 't', partitions: 2 })).status).toBe(201);
    const group = 'sweep';
    const stays = await join(group);
    const leaves = await join(group);
    const expires = await join(group);
    for (const m of [stays, leaves, expires]) expect(await heartbeat(group, m)).toBe(200);
    // One leaves; another stops heartbeating and is expired by a later change.
    expect((await stack.api.delete(`/v1/groups/${group}/members/${leaves}`)).status).toBe(204);
    now += SESSION_MS / 2;
    expect(await heartbeat(group, stays)).toBe(200);
    now += SESSION_MS / 2 + 1;
    expect(await heartbeat(group, stays)).toBe(200); // sees the expired member and removes it
    let items = await heartbeatItems(group);
    expect(items[leaves]?.dead).toBe(true);
    expect(items[expires]?.dead).toBe(true);
    expect(typeof items[expires]?.deadAt).toBe('number');

    // Not yet old enough: a membership change keeps them.
    await advance(HEARTBEAT_ITEM_KEPT_MS - 2 * SESSION_MS, group, [stays]);
    const early = await join(group);
    items = await heartbeatItems(group);
    expect(Object.keys(items)).toEqual(expect.arrayContaining([stays, leaves, expires]));

    // Past the bound: the next membership change deletes both, and nothing else.
    await advance(3 * SESSION_MS, group, [stays, early]);
    const late = await join(group);
    expect(await heartbeat(group, late)).toBe(200);
    items = await heartbeatItems(group);
    expect(items[leaves]).toBeUndefined();
    expect(items[expires]).toBeUndefined();
    expect(items[stays]?.dead).toBeUndefined();
    expect(items[early]?.dead).toBeUndefined();
    expect(items[late]?.dead).toBeUndefined();
    // The group still answers its members.
    expect(await heartbeat(group, stays)).toBe(200);
    expect(await heartbeat(group, leaves)).toBe(409);
  });
});
