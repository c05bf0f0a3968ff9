import { randomUUID } from 'node:crypto';
import { generateApiKey, hashApiKey, keyIdOf } from '#shared/domain/api-keys';
import { RunnelError } from '#shared/domain/errors';
import { ALL_PERMISSIONS } from '#shared/domain/permissions';
import type { Quotas } from '#shared/domain/quotas';
import type { MetadataStore, Tenant } from '#shared/ports/metadata-store';
import type { Authenticator } from './auth';

export interface CreatedTenant {
  tenant: Tenant;
  /** The tenant's first key, with all permissions. Shown once. */
  apiKey: string;
  keyId: string;
}

export const tenantNotFound = (tenantId: string) =>
  new RunnelError('tenant_not_found', `Tenant '${tenantId}' does not exist.`);

export class TenantService {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly clock: () => number,
    private readonly authenticator?: Authenticator,
  ) {}

  /**
   * Creates a tenant and its first key. The key is written before the tenant item, so a
   * crash in between leaves an unusable key of a tenant that does not exist, never a
   * tenant nobody can reach.
   */
  async create(
    name: string,
    options: { apiKey?: string; tenantId?: string; quotas?: Partial<Quotas> } = {},
  ): Promise<CreatedTenant> {
    const tenant: Tenant = {
      tenantId: options.tenantId ?? randomUUID(),
      name,
      createdAt: this.clock(),
      quotas: { ...options.quotas },
    };
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

  /** Live tenants (a deletion that died half way is finished by deleting again). */
  async list(): Promise<Tenant[]> {
    return (await this.metadata.listTenants()).filter((t) => t.deletedAt === undefined);
  }

  async get(tenantId: string): Promise<Tenant> {
    const tenant = await this.metadata.getTenant(tenantId);
    if (!tenant || tenant.deletedAt !== undefined) throw tenantNotFound(tenantId);
    return tenant;
  }

  /** Sets quotas (number) or resets them to the default (null). Takes effect everywhere within the key cache TTL. */
  async updateQuotas(tenantId: string, change: Partial<Record<keyof Quotas, number | null>>): Promise<Tenant> {
    const tenant = await this.metadata.updateTenantQuotas(tenantId, change);
    if (!tenant) throw tenantNotFound(tenantId);
    this.authenticator?.evictTenant(tenantId);
    return tenant;
  }

  /**
   * Deletes a tenant: its keys fail at once on this instance and within the key cache TTL
   * on every other; its data is unreachable from then on (every read is scoped by the
   * key's tenant) and a tombstone tells the maintenance job to remove it.
   */
  async delete(tenantId: string): Promise<void> {
    const existed = await this.metadata.deleteTenant(tenantId, this.clock());
    this.authenticator?.evictTenant(tenantId);
    if (!existed) throw tenantNotFound(tenantId);
  }
}
