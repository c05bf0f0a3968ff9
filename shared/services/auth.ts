import { API_KEY_CACHE_MS } from '#shared/constants';
import { hashApiKey, hashesEqual, keyIdOf } from '#shared/domain/api-keys';
import { unauthorized } from '#shared/domain/errors';
import type { Permission } from '#shared/domain/permissions';
import type { ApiKey, MetadataStore } from '#shared/ports/metadata-store';

/** Who is calling: the tenant comes from the key, never from the request. */
export interface TenantPrincipal {
  kind: 'tenant';
  tenantId: string;
  keyId: string;
  permissions: Permission[];
}

export interface OperatorPrincipal {
  kind: 'operator';
}

interface CachedKey {
  key: ApiKey | undefined;
  expiresAt: number;
}

/**
 * Resolves bearer tokens to principals. Key items are cached for a few seconds per
 * function instance (a revoked or deleted key fails within {@link API_KEY_CACHE_MS});
 * the cache holds the stored item (hash, not the key), and every lookup still compares
 * the presented key's hash in constant time.
 */
export class Authenticator {
  private readonly cache = new Map<string, CachedKey>();

  constructor(
    private readonly metadata: MetadataStore,
    private readonly operatorKeyHash: string | undefined,
    private readonly clock: () => number,
    private readonly cacheMs = API_KEY_CACHE_MS,
  ) {}

  isOperator(token: string): boolean {
    return this.operatorKeyHash !== undefined && hashesEqual(hashApiKey(token), this.operatorKeyHash);
  }

  async tenant(token: string): Promise<TenantPrincipal> {
    const keyId = keyIdOf(token);
    const now = this.clock();
    let cached = this.cache.get(keyId);
    if (!cached || cached.expiresAt <= now) {
      const key = await this.metadata.getApiKey(keyId);
      cached = { key, expiresAt: now + this.cacheMs };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(keyId, cached);
    }
    const key = cached.key;
    if (!key || !hashesEqual(hashApiKey(token), key.secretHash)) throw unauthorized('Unknown API key.');
    return { kind: 'tenant', tenantId: key.tenantId, keyId: key.keyId, permissions: key.permissions };
  }

  /** Forgets a cached key at once (this instance); other instances forget within the TTL. */
  evict(keyId: string): void {
    this.cache.delete(keyId);
  }
}
