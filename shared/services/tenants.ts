import { randomUUID } from 'node:crypto';
import { generateApiKey, hashApiKey, keyIdOf } from '#shared/domain/api-keys';
import { ALL_PERMISSIONS } from '#shared/domain/permissions';
import type { MetadataStore, Tenant } from '#shared/ports/metadata-store';

export interface CreatedTenant {
  tenant: Tenant;
  /** The tenant's first key, with all permissions. Shown once. */
  apiKey: string;
  keyId: string;
}

export class TenantService {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly clock: () => number,
  ) {}

  /**
   * Creates a tenant and its first key. The key is written before the tenant item, so a
   * crash in between leaves an unusable key of a tenant that does not exist, never a
   * tenant nobody can reach.
   */
  async create(name: string, options: { apiKey?: string; tenantId?: string } = {}): Promise<CreatedTenant> {
    const tenant: Tenant = { tenantId: options.tenantId ?? randomUUID(), name, createdAt: this.clock() };
    const generated = options.apiKey
      ? { apiKey: options.apiKey, keyId: keyIdOf(options.apiKey), secretHash: hashApiKey(options.apiKey) }
      : generateApiKey();
    await this.metadata.createApiKey({
      keyId: generated.keyId,
      tenantId: tenant.tenantId,
      name: 'initial',
      secretHash: generated.secretHash,
      permissions: ALL_PERMISSIONS,
      createdAt: tenant.createdAt,
    });
    await this.metadata.createTenant(tenant);
    return { tenant, apiKey: generated.apiKey, keyId: generated.keyId };
  }

  list(): Promise<Tenant[]> {
    return this.metadata.listTenants();
  }
}
