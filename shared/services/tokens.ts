import { SECOND } from '#shared/constants';
import { mintToken } from '#shared/domain/browser-tokens';
import { forbidden, unauthorized } from '#shared/domain/errors';
import { type Permission, permissionsCover } from '#shared/domain/permissions';
import type { MetadataStore } from '#shared/ports/metadata-store';
import type { TenantPrincipal } from './auth';

export interface MintedToken {
  token: string;
  /** ms since epoch. */
  expiresAt: number;
}

/**
 * Browser tokens: short-lived, read-only (`consume`) bearer tokens a backend mints with
 * its API key and hands to a web page, which cannot send an Authorization header from
 * `EventSource`. A token never exceeds the key that minted it and cannot mint.
 */
export class TokenService {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly clock: () => number,
  ) {}

  async mint(
    principal: TenantPrincipal,
    input: { permissions: Permission[]; ttlSeconds: number },
  ): Promise<MintedToken> {
    if (principal.token) throw forbidden('A browser token cannot mint tokens; mint with an API key.');
    if (!permissionsCover(principal.permissions, input.permissions)) {
      throw forbidden('A token cannot have a permission the calling key does not have.');
    }
    // The signature is keyed by the key's stored hash (the key itself is never stored).
    const key = await this.metadata.getApiKey(principal.keyId);
    if (!key || key.tenantId !== principal.tenantId) throw unauthorized('Unknown API key.');
    const expiresAt = this.clock() + input.ttlSeconds * SECOND;
    return { token: mintToken(key.keyId, key.secretHash, { expiresAt, permissions: input.permissions }), expiresAt };
  }
}
