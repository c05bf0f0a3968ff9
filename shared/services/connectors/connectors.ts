import { randomBytes } from 'node:crypto';
import {
  type Connector,
  type ConnectorKind,
  type ConnectorState,
  redactConfig,
  type S3SinkConfig,
  topicAccess,
} from '#shared/domain/connectors/config';
import {
  checkDestination,
  type DestinationPolicy,
  DestinationRefusedError,
  type Resolver,
} from '#shared/domain/connectors/destination';
import { invalidRequest, RunnelError, topicNotFound } from '#shared/domain/errors';
import { ConnectorExistsError, type ConnectorStore, type StoredConnector } from '#shared/ports/connector-store';
import type { MetadataStore } from '#shared/ports/metadata-store';
import type { TenantPrincipal } from '#shared/services/auth';
import { quotaExceeded } from '#shared/services/quotas';

export const connectorNotFound = (name: string) =>
  new RunnelError('connector_not_found', `Connector '${name}' does not exist.`);

const connectorExists = (name: string) => new RunnelError('connector_exists', `Connector '${name}' exists already.`);

/** Where connectors may reach, per deployment (docs/connectors.md, "Configuration"). */
export interface ConnectorPolicy {
  /** Destinations an http-sink may deliver to. */
  destinations: DestinationPolicy;
  /** Resolves http-sink host names (injected in tests). */
  resolve: Resolver;
  /** In AWS an s3-sink writes only through a role of the tenant's. */
  requireRoleArn: boolean;
  /** Buckets no connector may write to (the service's own). */
  reservedBuckets: readonly string[];
}

/** A connector as the API shows it: secrets redacted. */
export const connectorView = (c: Connector) => ({
  name: c.name,
  kind: c.kind,
  config: redactConfig(c.config),
  state: c.state,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
  status: {
    records: c.status.records,
    ...(c.status.lastError !== undefined ? { lastError: c.status.lastError } : {}),
    ...(c.status.lastErrorAt !== undefined ? { lastErrorAt: c.status.lastErrorAt } : {}),
  },
});

/**
 * The connectors API: create, list, describe, change and delete a tenant's connectors.
 * Shapes were checked by the route; this checks what needs the world: destinations (SSRF),
 * topics, quotas, and names.
 */
export class ConnectorService {
  constructor(
    private readonly store: ConnectorStore,
    private readonly metadata: MetadataStore,
    private readonly clock: () => number,
    private readonly policy: ConnectorPolicy,
  ) {}

  async create(
    principal: TenantPrincipal,
    input: { name: string; kind: ConnectorKind; config: Record<string, unknown> },
  ): Promise<StoredConnector> {
    await this.checkConfig(principal.tenantId, input.kind, input.config);
    const existing = await this.store.list(principal.tenantId);
    if (existing.some((c) => c.name === input.name)) throw connectorExists(input.name);
    const limit = principal.quotas.maxConnectors;
    // Concurrent creates may overshoot by their number, as for topics (docs/security.md).
    if (existing.length >= limit) {
      throw quotaExceeded(`The tenant has ${existing.length} of at most ${limit} connectors.`, 'maxConnectors', limit);
    }
    const now = this.clock();
    const connector: StoredConnector = {
      tenantId: principal.tenantId,
      name: input.name,
      connectorId: randomBytes(12).toString('base64url'),
      kind: input.kind,
      config: input.config,
      state: 'running',
      createdAt: now,
      updatedAt: now,
      status: { records: 0 },
      runtime: {},
    };
    try {
      await this.store.create(connector);
    } catch (error) {
      if (error instanceof ConnectorExistsError) throw connectorExists(input.name);
      throw error;
    }
    return connector;
  }

  async get(tenantId: string, name: string): Promise<StoredConnector> {
    const connector = await this.store.get(tenantId, name);
    if (!connector) throw connectorNotFound(name);
    return connector;
  }

  async list(tenantId: string): Promise<StoredConnector[]> {
    return (await this.store.list(tenantId)).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** `config` is the whole new configuration (merged and parsed by the route). */
  async update(
    current: StoredConnector,
    change: { state?: 'running' | 'paused' | undefined; config?: Record<string, unknown> | undefined },
  ): Promise<StoredConnector> {
    if (change.config) {
      if (current.kind === 'datagen' && change.config.topic !== current.config.topic) {
        throw invalidRequest("A datagen connector's topic cannot change; create another connector.");
      }
      await this.checkConfig(current.tenantId, current.kind, change.config);
    }
    const resumes = change.state === 'running' && current.state !== 'running';
    const updated = await this.store.update(current.tenantId, current.name, current.connectorId, {
      updatedAt: this.clock(),
      ...(change.config ? { config: change.config } : {}),
      ...(change.state ? { state: change.state as ConnectorState } : {}),
      // A resume starts the rate over and gives a failed batch its retries again.
      ...(resumes || change.config ? { resetRuntime: ['rateFrom', 'attempts', 'nextAttemptAt'] } : {}),
    });
    if (!updated) throw connectorNotFound(current.name);
    return updated;
  }

  async delete(tenantId: string, name: string): Promise<void> {
    if (!(await this.store.delete(tenantId, name))) throw connectorNotFound(name);
  }

  private async checkConfig(tenantId: string, kind: ConnectorKind, config: Record<string, unknown>) {
    const { produce, consume } = topicAccess(kind, config);
    if (kind === 'http-sink') {
      try {
        await checkDestination(String(config.url), this.policy.destinations, this.policy.resolve);
      } catch (error) {
        if (error instanceof DestinationRefusedError)
          throw invalidRequest(error.message, [{ path: 'config.url', message: error.message }]);
        throw error;
      }
      if (typeof config.deadLetterTopic === 'string' && consume.includes(config.deadLetterTopic)) {
        throw invalidRequest('deadLetterTopic cannot be one of the topics the sink consumes.');
      }
    }
    if (kind === 's3-sink') {
      const s3 = config as S3SinkConfig;
      if (this.policy.requireRoleArn && !s3.roleArn) {
        const message = 'roleArn is required: the service writes to your bucket through a role of yours.';
        throw invalidRequest(message, [{ path: 'config.roleArn', message }]);
      }
      if (this.policy.reservedBuckets.includes(s3.bucket)) {
        const message = `Bucket '${s3.bucket}' cannot be used.`;
        throw invalidRequest(message, [{ path: 'config.bucket', message }]);
      }
    }
    for (const topic of [...new Set([...produce, ...consume])]) {
      if (!(await this.metadata.getTopic(tenantId, topic))) throw topicNotFound(topic);
    }
  }
}
