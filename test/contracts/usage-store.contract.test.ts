import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageStore } from '#shared/ports/usage-store';
import { type Stack, startStack } from '../harness';

/**
 * The UsageStore port's contract, on the DynamoDB adapter (dynalite): whatever the caller
 * guesses about a shard's window (`opensWindow`), every byte is counted once, into the
 * newest window.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const implementations: [string, () => UsageStore][] = [['DynamoDbUsageStore (dynalite)', () => stack.deps.usage]];

let tenants = 0;

describe.each(implementations)('UsageStore: %s', (_name, make) => {
  it('counts every byte once whether the window guess is right or wrong', async () => {
    const usage = make();
    const tenant = `usage-${tenants++}`;
    await usage.add(tenant, 'produce', 3, 100, 10, true); // right: the shard has no window yet
    await usage.add(tenant, 'produce', 3, 100, 5, true); // wrong: window 100 is open already
    await usage.add(tenant, 'produce', 3, 100, 1, false); // right
    expect(await usage.read(tenant, 100)).toEqual({ produceBytes: 16, fetchBytes: 0, storedBytes: 16 });
    await usage.add(tenant, 'produce', 3, 101, 7, false); // wrong: the shard still holds window 100
    expect(await usage.read(tenant, 101)).toEqual({ produceBytes: 7, fetchBytes: 0, storedBytes: 23 });
    expect(await usage.read(tenant, 100)).toEqual({ produceBytes: 0, fetchBytes: 0, storedBytes: 23 });
  });

  it('keeps a newer window: a lagging writer counts into it', async () => {
    const usage = make();
    const tenant = `usage-${tenants++}`;
    await usage.add(tenant, 'fetch', 0, 200, 4, true);
    await usage.add(tenant, 'fetch', 0, 199, 6, true);
    expect(await usage.read(tenant, 200)).toEqual({ produceBytes: 0, fetchBytes: 10, storedBytes: 0 });
  });
});
