import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConnectorStore } from '#shared/ports/connector-store';
import type { GroupStore } from '#shared/ports/group-store';
import type { IdempotencyStore } from '#shared/ports/idempotency-store';
import type { LogIndex } from '#shared/ports/log-index';
import type { MaintenanceStore } from '#shared/ports/maintenance-store';
import type { MetadataStore } from '#shared/ports/metadata-store';
import type { SegmentStore } from '#shared/ports/segment-store';
import type { UsageStore } from '#shared/ports/usage-store';
import { DynamoDbLogIndex } from './dynamodb/log-index';
import { DynamoDbMetadataStore } from './dynamodb/metadata-store';
import type { TableNames } from './dynamodb/tables';
import { DynamoDbUsageStore } from './dynamodb/usage-store';
import { lazyPort } from './lazy-port';
import { S3SegmentStore } from './s3/segment-store';
import { classifyStorageErrors } from './storage-errors';

export interface StorageConfig {
  tables: TableNames;
  bucket: string;
}

export interface Ports {
  metadata: MetadataStore;
  index: LogIndex;
  segments: SegmentStore;
  maintenance: MaintenanceStore;
  idempotency: IdempotencyStore;
  usage: UsageStore;
  groups: GroupStore;
  connectors: ConnectorStore;
}

/**
 * The AWS adapters behind the ports. The clients are built once per process by the host;
 * their transient failures reach the services as the domain's storage-unavailable error.
 * The adapters of consumer groups, connectors, idempotent produce and the maintenance
 * job's items are imported on their first call ({@link lazyPort}): a start of the API
 * loads only those that plain produce and fetch use.
 */
export const awsPorts = (clients: { dynamodb: DynamoDBClient; s3: S3Client }, config: StorageConfig): Ports => {
  classifyStorageErrors(clients.dynamodb);
  classifyStorageErrors(clients.s3);
  const doc = DynamoDBDocumentClient.from(clients.dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    metadata: new DynamoDbMetadataStore(doc, config.tables.metadata),
    index: new DynamoDbLogIndex(doc, config.tables.log),
    segments: new S3SegmentStore(clients.s3, config.bucket),
    maintenance: lazyPort<MaintenanceStore>(
      async () =>
        new (await import('./dynamodb/first-use/maintenance-store')).DynamoDbMaintenanceStore(
          doc,
          config.tables.metadata,
        ),
      {
        acquireLease: true,
        releaseLease: true,
        getProgress: true,
        putProgress: true,
        deleteProgress: true,
        listDeletedTopics: true,
        forgetDeletedTopic: true,
        purgeTenantItems: true,
        releaseStoredBytes: true,
        forgetDeletedTenant: true,
      },
    ),
    idempotency: lazyPort<IdempotencyStore>(
      async () =>
        new (await import('./dynamodb/first-use/idempotency-store')).DynamoDbIdempotencyStore(
          doc,
          config.tables.metadata,
        ),
      { get: true, getProducer: true, create: true, takeOver: true, release: true, complete: true },
    ),
    usage: new DynamoDbUsageStore(doc, config.tables.metadata),
    groups: lazyPort<GroupStore>(
      async () =>
        new (await import('./dynamodb/first-use/group-store')).DynamoDbGroupStore(doc, config.tables.metadata),
      {
        get: true,
        list: true,
        create: true,
        update: true,
        heartbeat: true,
        getCommit: true,
        listCommits: true,
        commit: true,
        claim: true,
      },
    ),
    connectors: lazyPort<ConnectorStore>(
      async () =>
        new (await import('./dynamodb/first-use/connector-store')).DynamoDbConnectorStore(doc, config.tables.metadata),
      {
        create: true,
        get: true,
        list: true,
        update: true,
        delete: true,
        registered: true,
        unregister: true,
        acquire: true,
        saveProgress: true,
        noteError: true,
        finish: true,
        release: true,
      },
    ),
  };
};
