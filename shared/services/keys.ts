import { generateApiKey } from '#shared/domain/api-keys';
import { forbidden, RunnelError } from '#shared/domain/errors';
import { type Permission, permissionsCover } from '#shared/domain/permissions';
import type { ApiKeySummary, MetadataStore } from '#shared/ports/metadata-store';
import type { Authenticator, TenantPrincipal } from './auth';

export interface CreatedKey extends ApiKeySummary {
  /** The key itself: shown once, only its hash is stored. */
  apiKey: string;
}

export const keyNotFound = (keyId: string) => new RunnelError('key_not_found', `API key '${keyId}' does not exist.`);

/** A tenant's own keys: create (never beyond the creator's permissions), list, revoke. */
export class KeyService {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly authenticator: Authenticator,
    private readonly clock: () => number,
  ) {}

  async create(principal: TenantPrincipal, input: { name: string; permissions: Permission[] }): Promise<CreatedKey> {
    if (!permissionsCover(principal.permissions, input.permissions)) {
      throw forbidden('A new key cannot have a permission the calling key does not have.');
    }
    const generated = generateApiKey();
    const summary: ApiKeySummary = {
      keyId: generated.keyId,
      name: input.name,
      permissions: input.permissions,
      createdAt: this.clock(),
    };
    await this.metadata.createApiKey({ ...summary, tenantId: principal.tenantId, secretHash: generated.secretHash });
    return { ...summary, apiKey: generated.apiKey };
  }

  list(tenantId: string): Promise<ApiKeySummary[]> {
    return this.metadata.listApiKeys(tenantId);
  }

  /**
   * Revoked at once on this instance; every other instance refuses it within the key cache
   * TTL. Revoking follows the rule of minting: a key may revoke only keys whose permissions
   * its own cover, so a narrow `manage` key cannot take away a stronger key.
   */
  async revoke(principal: TenantPrincipal, keyId: string): Promise<void> {
    const { tenantId } = principal;
    const target = await this.metadata.getApiKey(keyId);
    if (!target || target.tenantId !== tenantId) throw keyNotFound(keyId);
    if (!permissionsCover(principal.permissions, target.permissions)) {
      throw forbidden('A key cannot revoke a key that has a permission the calling key does not have.');
    }
    const revoked = await this.metadata.deleteApiKey(tenantId, keyId);
    if (!revoked) throw keyNotFound(keyId);
    this.authenticator.evict(keyId);
  }
}
