import { describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey } from '#shared/domain/api-keys';
import { ALL_PERMISSIONS } from '#shared/domain/permissions';
import type { ApiKey, MetadataStore, Tenant } from '#shared/ports/metadata-store';
import { Authenticator } from './auth';

/** The three MetadataStore calls the authenticator makes, over two items, counting key lookups. */
const store = (key: ApiKey, tenant: Tenant) => {
  const lookups = new Map<string, number>();
  const metadata = {
    getApiKey: async (keyId: string) => {
      lookups.set(keyId, (lookups.get(keyId) ?? 0) + 1);
      return keyId === key.keyId ? key : undefined;
    },
    getTenant: async (tenantId: string) => (tenantId === tenant.tenantId ? tenant : undefined),
    recordApiKeyUse: async () => {},
  } as unknown as MetadataStore;
  return { metadata, lookups };
};

const setup = () => {
  const generated = generateApiKey();
  const tenant: Tenant = { tenantId: 't1', name: 'acme', createdAt: 0 };
  const key: ApiKey = {
    keyId: generated.keyId,
    tenantId: tenant.tenantId,
    name: 'k',
    secretHash: generated.secretHash,
    permissions: ALL_PERMISSIONS,
    createdAt: 0,
  };
  let now = 1_000_000;
  const { metadata, lookups } = store(key, tenant);
  const auth = new Authenticator(metadata, undefined, () => now, { cacheMs: 5_000 });
  return { auth, apiKey: generated.apiKey, keyId: generated.keyId, lookups, advance: (ms: number) => (now += ms) };
};

describe('Authenticator key cache', () => {
  it('keeps a valid key cached through a flood of made-up key ids', async () => {
    const { auth, apiKey, keyId, lookups } = setup();
    await auth.tenant(apiKey);
    expect(lookups.get(keyId)).toBe(1);
    // More made-up ids than the cache holds.
    for (let i = 0; i < 12_000; i++) {
      await expect(auth.tenant(`rnl_made${i}up_secret`)).rejects.toMatchObject({ code: 'unauthorized' });
    }
    await auth.tenant(apiKey);
    expect(lookups.get(keyId)).toBe(1);
  });

  it('remembers an unknown id for the TTL, and reloads a key once the TTL passed', async () => {
    const { auth, apiKey, keyId, lookups, advance } = setup();
    const unknown = 'rnl_nosuchkey_secret';
    for (let i = 0; i < 3; i++) await expect(auth.tenant(unknown)).rejects.toMatchObject({ code: 'unauthorized' });
    expect([...lookups.values()].reduce((a, b) => a + b, 0)).toBe(1);
    await auth.tenant(apiKey);
    advance(4_999);
    await auth.tenant(apiKey);
    expect(lookups.get(keyId)).toBe(1);
    advance(1);
    await auth.tenant(apiKey);
    expect(lookups.get(keyId)).toBe(2);
  });

  it('forgets an evicted key at once', async () => {
    const { auth, apiKey, keyId, lookups } = setup();
    await auth.tenant(apiKey);
    auth.evict(keyId);
    await auth.tenant(apiKey);
    expect(lookups.get(keyId)).toBe(2);
  });
});

describe('Authenticator lookups', () => {
  it('shares one storage read among requests that miss the cache together', async () => {
    const { auth, apiKey, keyId, lookups, advance } = setup();
    await auth.tenant(apiKey);
    advance(6_000); // the cached key expired
    const principals = await Promise.all(Array.from({ length: 50 }, () => auth.tenant(apiKey)));
    expect(principals.every((p) => p.keyId === keyId)).toBe(true);
    expect(lookups.get(keyId)).toBe(2);
  });
});

describe('Authenticator operator key', () => {
  const metadata = {} as MetadataStore;
  const operatorKey = 'the-operator-key';

  it('loads the operator key hash on the first operator check, once, and not at construction', async () => {
    let loads = 0;
    const auth = new Authenticator(
      metadata,
      async () => {
        loads++;
        return hashApiKey(operatorKey);
      },
      () => 0,
    );
    expect(loads).toBe(0);
    expect(await auth.isOperator('not-the-key')).toBe(false);
    expect(await auth.isOperator(operatorKey)).toBe(true);
    expect(loads).toBe(1);
  });

  it('tries the load again after it failed, and refuses every key when there is no operator key', async () => {
    let fail = true;
    const auth = new Authenticator(
      metadata,
      async () => {
        if (fail) throw new Error('secret unavailable');
        return hashApiKey(operatorKey);
      },
      () => 0,
    );
    await expect(auth.isOperator(operatorKey)).rejects.toThrow('secret unavailable');
    fail = false;
    expect(await auth.isOperator(operatorKey)).toBe(true);
    const none = new Authenticator(
      metadata,
      async () => undefined,
      () => 0,
    );
    expect(await none.isOperator(operatorKey)).toBe(false);
    expect(await new Authenticator(metadata, hashApiKey(operatorKey), () => 0).isOperator(operatorKey)).toBe(true);
  });
});
