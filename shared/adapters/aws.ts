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
import { DynamoDbConnectorStore } from './dynamodb/connector-store';
import { DynamoDbGroupStore } from './dynamodb/group-store';
import { DynamoDbIdempotencyStore } from './dynamodb/idempotency-store';
import { DynamoDbLogIndex } from './dynamodb/log-index';
import { DynamoDbMaintenanceStore } from './dynamodb/maintenance-store';
import { DynamoDbMetadataStore } from './dynamodb/metadata-store';
import type { TableNames } from './dynamodb/tables';
import { DynamoDbUsageStore } from './dynamodb/usage-store';
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
    maintenance: new DynamoDbMaintenanceStore(doc, config.tables.metadata),
    idempotency: new DynamoDbIdempotencyStore(doc, config.tables.metadata),
    usage: new DynamoDbUsageStore(doc, config.tables.metadata),
    groups: new DynamoDbGroupStore(doc, config.tables.metadata),
    connectors: new DynamoDbConnectorStore(doc, config.tables.metadata),
  };
};
