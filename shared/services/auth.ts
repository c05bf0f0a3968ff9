import { API_KEY_CACHE_MS, API_KEY_LAST_USE_INTERVAL_MS } from '#shared/constants';
import { hashApiKey, hashesEqual, keyIdOf } from '#shared/domain/api-keys';
import { unauthorized } from '#shared/domain/errors';
import type { Permission } from '#shared/domain/permissions';
import { effectiveQuotas, type Quotas } from '#shared/domain/quotas';
import type { ApiKey, MetadataStore, Tenant } from '#shared/ports/metadata-store';

/** Who is calling: the tenant comes from the key, never from the request. */
export interface TenantPrincipal {
  kind: 'tenant';
  tenantId: string;
  keyId: string;
  permissions: Permission[];
  /** The tenant's quotas in force (as of the cached tenant item). */
  quotas: Quotas;
}

export interface OperatorPrincipal {
  kind: 'operator';
}

interface Cached<T> {
  value: T | undefined;
  expiresAt: number;
}

/** Entries a cache may hold before it starts over (bounds memory under a flood of made-up key ids). */
const MAX_CACHE_ENTRIES = 10_000;

export interface AuthenticatorOptions {
  /** @default API_KEY_CACHE_MS */
  cacheMs?: number;
  /** @default API_KEY_LAST_USE_INTERVAL_MS */
  lastUseIntervalMs?: number;
}

/**
 * Resolves bearer tokens to principals. A key needs its key item and a live tenant item;
 * both are cached for a few seconds per function instance, so a warm request costs no
 * DynamoDB call, and a revoked key or deleted tenant fails on every instance within
 * {@link API_KEY_CACHE_MS} (at once on the instance that revoked it: {@link evict}).
 * The cache holds stored items (hashes, never keys), and every request still compares
 * the presented key's hash in constant time.
 */
export class Authenticator {
  private readonly keys = new Map<string, Cached<ApiKey>>();
  private readonly tenants = new Map<string, Cached<Tenant>>();
  private readonly lastUseWritten = new Map<string, number>();
  private readonly cacheMs: number;
  private readonly lastUseIntervalMs: number;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly operatorKeyHash: string | undefined,
    private readonly clock: () => number,
    options: AuthenticatorOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? API_KEY_CACHE_MS;
    this.lastUseIntervalMs = options.lastUseIntervalMs ?? API_KEY_LAST_USE_INTERVAL_MS;
  }

  isOperator(token: string): boolean {
    return this.operatorKeyHash !== undefined && hashesEqual(hashApiKey(token), this.operatorKeyHash);
  }

  private async cached<T>(cache: Map<string, Cached<T>>, id: string, load: () => Promise<T | undefined>) {
    const now = this.clock();
    let entry = cache.get(id);
    if (!entry || entry.expiresAt <= now) {
      entry = { value: await load(), expiresAt: now + this.cacheMs };
      if (cache.size >= MAX_CACHE_ENTRIES) cache.clear();
      cache.set(id, entry);
    }
    return entry.value;
  }

  async tenant(token: string): Promise<TenantPrincipal> {
    const keyId = keyIdOf(token);
    const key = await this.cached(this.keys, keyId, () => this.metadata.getApiKey(keyId));
    if (!key || !hashesEqual(hashApiKey(token), key.secretHash)) throw unauthorized('Unknown API key.');
    const tenant = await this.cached(this.tenants, key.tenantId, () => this.metadata.getTenant(key.tenantId));
    // A deleted tenant's keys are unknown keys: its data cannot be reached any more.
    if (!tenant || tenant.deletedAt !== undefined) throw unauthorized('Unknown API key.');
    await this.recordUse(key);
    return {
      kind: 'tenant',
      tenantId: key.tenantId,
      keyId: key.keyId,
      permissions: key.permissions,
      quotas: effectiveQuotas(tenant.quotas),
    };
  }

  /** At most one write per key per interval per instance; a failure never fails the request. */
  private async recordUse(key: ApiKey): Promise<void> {
    const now = this.clock();
    const last = this.lastUseWritten.get(key.keyId);
    if (last !== undefined && now - last < this.lastUseIntervalMs) return;
    if (this.lastUseWritten.size >= MAX_CACHE_ENTRIES) this.lastUseWritten.clear();
    this.lastUseWritten.set(key.keyId, now);
    try {
      await this.metadata.recordApiKeyUse(key.tenantId, key.keyId, now);
    } catch {
      // Last use is informational; the next interval tries again.
    }
  }

  /** Forgets a cached key at once (this instance); other instances forget within the TTL. */
  evict(keyId: string): void {
    this.keys.delete(keyId);
  }

  /** Forgets a cached tenant (deleted, or quotas changed) at once on this instance. */
  evictTenant(tenantId: string): void {
    this.tenants.delete(tenantId);
  }
}
