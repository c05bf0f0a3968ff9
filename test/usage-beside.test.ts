import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { UsageStore } from '#shared/ports/usage-store';
import { type Stack, startStack } from './harness';
import { usageShards } from './tenant-state';

/**
 * A request answers without waiting for its usage calls (no produce waits on a write that
 * is not its append): every usage write is held (a wrapper over the real usage store that
 * waits for the test), yet the produce and the fetch answer; once released, the writes land
 * with the bytes they carry.
 */
let stack: Stack;
let held: (() => void)[] = [];
let holding = false;
const sent: string[] = [];
/** Usage reads: hold the next ones when set. */
let holdReads = false;
const heldReads: (() => void)[] = [];
let reads = 0;
let now = 1_800_000_000_000;

beforeAll(async () => {
  // A clock that stands still unless a test moves it: requests fall in one quota window.
  stack = await startStack({ clock: () => now });
  const real = stack.deps.usage;
  const add = real.add.bind(real);
  const read = real.read.bind(real);
  (real as { read: UsageStore['read'] }).read = async (tenantId, window) => {
    reads += 1;
    if (holdReads) await new Promise<void>((resolve) => heldReads.push(resolve));
    return read(tenantId, window);
  };
  (real as { add: UsageStore['add'] }).add = async (tenantId, direction, shard, window, bytes, opensWindow) => {
    sent.push(`${direction} ${bytes}`);
    if (holding) await new Promise<void>((resolve) => held.push(resolve));
    return add(tenantId, direction, shard, window, bytes, opensWindow);
  };
});
afterAll(() => stack.close());

const storedBytes = async () =>
  (await usageShards(stack.emulators, stack.tenantId, 'produce')).reduce((n, i) => n + Number(i.storedBytes ?? 0), 0);
const fetchedBytes = async () =>
  (await usageShards(stack.emulators, stack.tenantId, 'fetch')).reduce((n, i) => n + Number(i.bytes ?? 0), 0);

describe('usage calls beside the answer', () => {
  it('answers a produce while its usage write is held; the write lands when released', async () => {
    expect((await stack.api.post('/v1/topics', { name: 'beside', partitions: 1 })).status).toBe(201);
    // The first produce reads the topic and the usage shards; the second takes the fast path.
    for (const value of ['warm', 'fast']) {
      holding = true;
      const res = await stack.api.post('/v1/topics/beside/records', { records: [{ value }] });
      expect(res.status).toBe(200);
      expect(held).toHaveLength(1); // answered with the write still unanswered
      holding = false;
      for (const release of held) release();
      held = [];
      await stack.services.quotas.drain();
    }
    expect(sent).toEqual(['produce 4', 'produce 4']);
    expect(await storedBytes()).toBe(8);
  });

  it('answers the next request while the fetched bytes it sends are held', async () => {
    const fetched = await stack.api.get('/v1/topics/beside/partitions/0/records');
    expect(fetched.body.records).toHaveLength(2);
    expect(sent).toHaveLength(2); // fetched bytes are counted here and sent with the next request
    holding = true;
    const next = await stack.api.get('/v1/topics/beside/partitions/0/records?offset=2');
    expect(next.status).toBe(200);
    expect(held).toHaveLength(1);
    expect(sent[2]).toBe('fetch 8');
    holding = false;
    for (const release of held) release();
    held = [];
    await stack.services.quotas.drain();
    expect(await fetchedBytes()).toBe(8);
  });

  it('does not wait for a usage read sent before the instance was frozen: a later request sends its own', async () => {
    // A new second: the next request knows nothing of it and reads the shards first. That
    // read hangs, as one in flight when Lambda froze the instance would.
    now += 1_000;
    holdReads = true;
    const stuck = stack.api.get('/v1/topics/beside/partitions/0/records?offset=2');
    await vi.waitFor(() => expect(heldReads).toHaveLength(1));
    holdReads = false;
    // The instance is thawed 5 s later: its request sends a new read instead of waiting.
    now += 5_000;
    const readsBefore = reads;
    const thawed = await stack.api.get('/v1/topics/beside/partitions/0/records?offset=2');
    expect(thawed.status).toBe(200);
    expect(reads).toBe(readsBefore + 1);
    for (const release of heldReads) release();
    expect((await stuck).status).toBe(200);
    await stack.services.quotas.drain();
  });
});
