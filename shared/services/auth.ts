import { API_KEY_CACHE_MS, API_KEY_LAST_USE_INTERVAL_MS } from '#shared/constants';
import { hashApiKey, hashesEqual, keyIdOf } from '#shared/domain/api-keys';
import { type BoundedCache, boundedCache } from '#shared/domain/bounded-cache';
import { isBrowserToken, tokenKeyId, verifyToken } from '#shared/domain/browser-tokens';
import { tokenExpired, unauthorized } from '#shared/domain/errors';
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
  /** Set when the caller presented a browser token (read-only) minted by key `keyId`. */
  token?: { expiresAt: number };
}

export interface OperatorPrincipal {
  kind: 'operator';
}

/** Entries each cache holds at most; the least recently used go first. */
const MAX_CACHE_ENTRIES = 10_000;

/** A looked-up item, or the finding that there is none, until it is to be looked up again. */
interface Found<T> {
  value: T | undefined;
  expiresAt: number;
}

export interface AuthenticatorOptions {
  /** @default API_KEY_CACHE_MS */
  cacheMs?: number;
  /** @default API_KEY_LAST_USE_INTERVAL_MS */
  lastUseIntervalMs?: number;
}

/**
 * The operator key's SHA-256 (hex), or a function that loads it (from Secrets Manager in
 * AWS) on the first operator request, so that starting an instance waits for no secret.
 * `undefined`: the operator API refuses every call.
 */
export type OperatorKeyHash = string | undefined | (() => Promise<string | undefined>);

/** Loads the hash once; a failed load is not kept, so the next operator request tries again. */
const once = (hash: OperatorKeyHash): (() => Promise<string | undefined>) => {
  if (typeof hash !== 'function') return async () => hash;
  let loading: Promise<string | undefined> | undefined;
  return () => {
    if (!loading) {
      loading = hash();
      loading.catch(() => {
        loading = undefined;
      });
    }
    return loading;
  };
};

/**
 * Resolves bearer tokens to principals. A key needs its key item and a live tenant item;
 * both are cached for a few seconds per function instance, so a warm request costs no
 * DynamoDB call, and a revoked key or deleted tenant fails on every instance within
 * {@link API_KEY_CACHE_MS} (at once on the instance that revoked it: {@link evict}).
 * The cache holds stored items (hashes, never keys), and every request still compares
 * the presented key's hash in constant time.
 */
export class Authenticator {
  /**
   * Keys that exist, apart from ids that do not: a flood of made-up key ids fills only
   * `unknownKeys`, and never evicts the keys of real callers.
   */
  private readonly keys: BoundedCache<string, Found<ApiKey>>;
  private readonly unknownKeys: BoundedCache<string, Found<ApiKey>>;
  private readonly tenants: BoundedCache<string, Found<Tenant>>;
  private readonly lastUseWritten: BoundedCache<string, number>;
  private readonly operatorKeyHash: () => Promise<string | undefined>;
  private readonly cacheMs: number;
  private readonly lastUseIntervalMs: number;

  constructor(
    private readonly metadata: MetadataStore,
    operatorKeyHash: OperatorKeyHash,
    private readonly clock: () => number,
    options: AuthenticatorOptions = {},
  ) {
    this.operatorKeyHash = once(operatorKeyHash);
    this.cacheMs = options.cacheMs ?? API_KEY_CACHE_MS;
    // Bounded by count; expiry is checked on the injected clock (stale from `expiresAt` on).
    this.keys = boundedCache(MAX_CACHE_ENTRIES);
    this.unknownKeys = boundedCache(MAX_CACHE_ENTRIES);
    this.tenants = boundedCache(MAX_CACHE_ENTRIES);
    this.lastUseWritten = boundedCache(MAX_CACHE_ENTRIES);
    this.lastUseIntervalMs = options.lastUseIntervalMs ?? API_KEY_LAST_USE_INTERVAL_MS;
  }

  /** Whether `token` is the operator key (constant-time compare of the hashes). */
  async isOperator(token: string): Promise<boolean> {
    const expected = await this.operatorKeyHash();
    return expected !== undefined && hashesEqual(hashApiKey(token), expected);
  }

  private fresh<T>(found: Found<T> | undefined): found is Found<T> {
    return found !== undefined && found.expiresAt > this.clock();
  }

  /**
   * Lookups in flight, by key id or tenant id: requests that miss the cache together (a
   * burst after the entry expired) share one storage read instead of sending one each.
   */
  private readonly pending = new Map<string, Promise<unknown>>();

  private once<T>(id: string, load: () => Promise<T>): Promise<T> {
    const inFlight = this.pending.get(id);
    if (inFlight) return inFlight as Promise<T>;
    const loading = load().finally(() => this.pending.delete(id));
    this.pending.set(id, loading);
    return loading;
  }

  private async apiKey(keyId: string): Promise<ApiKey | undefined> {
    const known = this.keys.get(keyId);
    if (this.fresh(known)) return known.value;
    const unknown = this.unknownKeys.get(keyId);
    if (this.fresh(unknown)) return undefined;
    return this.once(`key#${keyId}`, () => this.loadApiKey(keyId));
  }

  private async loadApiKey(keyId: string): Promise<ApiKey | undefined> {
    const expiresAt = this.clock() + this.cacheMs;
    const value = await this.metadata.getApiKey(keyId);
    if (value) {
      this.unknownKeys.delete(keyId);
      this.keys.set(keyId, { value, expiresAt });
    } else {
      this.keys.delete(keyId);
      this.unknownKeys.set(keyId, { value, expiresAt });
    }
    return value;
  }

  private async tenantItem(tenantId: string): Promise<Tenant | undefined> {
    const cached = this.tenants.get(tenantId);
    if (this.fresh(cached)) return cached.value;
    return this.once(`tenant#${tenantId}`, async () => {
      const expiresAt = this.clock() + this.cacheMs;
      const value = await this.metadata.getTenant(tenantId);
      this.tenants.set(tenantId, { value, expiresAt });
      return value;
    });
  }

  /** Resolves an API key, or a browser token minted by one (see `browser-tokens.ts`). */
  async tenant(token: string): Promise<TenantPrincipal> {
    if (isBrowserToken(token)) return this.browserToken(token);
    const keyId = keyIdOf(token);
    const key = await this.apiKey(keyId);
    if (!key || !hashesEqual(hashApiKey(token), key.secretHash)) throw unauthorized('Unknown API key.');
    const principal = await this.principalOf(key);
    await this.recordUse(key);
    return principal;
  }

  private async principalOf(key: ApiKey): Promise<TenantPrincipal> {
    const tenant = await this.tenantItem(key.tenantId);
    // A deleted tenant's keys are unknown keys: its data cannot be reached any more.
    if (!tenant || tenant.deletedAt !== undefined) throw unauthorized('Unknown API key.');
    return {
      kind: 'tenant',
      tenantId: key.tenantId,
      keyId: key.keyId,
      permissions: key.permissions,
      quotas: effectiveQuotas(tenant.quotas),
    };
  }

  /**
   * Confirms, from storage rather than the cache, that the principal's key and tenant are
   * still live. A long poll that waited calls it before answering with records, so a key
   * revoked (on any instance) while the request waited gets nothing more. Two reads, made
   * only by requests that waited. A browser token must also still be within its lifetime.
   */
  async confirm(principal: TenantPrincipal): Promise<void> {
    if (principal.token && principal.token.expiresAt <= this.clock()) throw tokenExpired();
    this.evict(principal.keyId);
    this.evictTenant(principal.tenantId);
    const [key, tenant] = await Promise.all([this.apiKey(principal.keyId), this.tenantItem(principal.tenantId)]);
    if (!key || key.tenantId !== principal.tenantId || !tenant || tenant.deletedAt !== undefined) {
      throw unauthorized('The API key was revoked while the request waited.');
    }
  }

  /**
   * A token is checked against its minting key's item: a revoked key (or deleted tenant)
   * takes its tokens with it. The signature is checked before the expiry, so a forged
   * token never learns anything but "unknown".
   */
  private async browserToken(token: string): Promise<TenantPrincipal> {
    const keyId = tokenKeyId(token);
    const key = keyId ? await this.apiKey(keyId) : undefined;
    const claims = key ? verifyToken(token, key.secretHash) : undefined;
    if (!key || !claims) throw unauthorized('Unknown browser token.');
    if (claims.expiresAt <= this.clock()) throw tokenExpired();
    const principal = await this.principalOf(key);
    // Read-only whatever the payload says: only `consume` survives.
    const permissions = claims.permissions
      .map((p) => ({ resource: p.resource, actions: p.actions.filter((a) => a === 'consume') }))
      .filter((p) => p.actions.length > 0);
    return { ...principal, permissions, token: { expiresAt: claims.expiresAt } };
  }

  /** At most one write per key per interval per instance; a failure never fails the request. */
  private async recordUse(key: ApiKey): Promise<void> {
    const now = this.clock();
    const last = this.lastUseWritten.get(key.keyId);
    if (last !== undefined && now - last < this.lastUseIntervalMs) return;
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
    this.unknownKeys.delete(keyId);
    // A lookup already in flight may predate the change: the next one reads afresh.
    this.pending.delete(`key#${keyId}`);
  }

  /** Forgets a cached tenant (deleted, or quotas changed) at once on this instance. */
  evictTenant(tenantId: string): void {
    this.tenants.delete(tenantId);
    this.pending.delete(`tenant#${tenantId}`);
  }
}
