import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateTableCommand, type DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import type { StorageConfig } from '#shared/adapters/aws';
import { type TableNames, tableDefinitions } from '#shared/adapters/dynamodb/tables';
import { createSdkClients } from '#shared/adapters/sdk-clients';

/**
 * DynamoDB and S3, emulated in-process by dynalite and s3rver and reached through the
 * real AWS SDK v3 clients over loopback HTTP: the code path is the one that runs in AWS.
 */
export interface Emulators {
  dynamodb: DynamoDBClient;
  s3: S3Client;
  storage: StorageConfig;
  endpoints: { dynamodb: string; s3: string };
  close(): Promise<void>;
}

export interface EmulatorOptions {
  /** Directory to persist under; in memory (DynamoDB) and a temp dir (S3) when absent. */
  dataDir?: string;
  /** Where s3rver keeps objects when there is no dataDir. */
  s3Dir?: string;
  tables?: TableNames;
  bucket?: string;
}

export const LOCAL_STORAGE: StorageConfig = {
  tables: { metadata: 'runnel-metadata', log: 'runnel-log' },
  bucket: 'runnel-segments',
};

// Static credentials: the emulators check nothing, and the SDK must not go looking for real ones.
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

// The same retry and timeout settings as in Lambda (shared/adapters/sdk-clients.ts).
export const localClients = (endpoints: { dynamodb: string; s3: string }) =>
  createSdkClients({ endpoints, region: 'us-east-1', credentials, s3ForcePathStyle: true });

const listen = (server: import('node:http').Server) =>
  new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo));
  });

export const ensureStorage = async (dynamodb: DynamoDBClient, s3: S3Client, storage: StorageConfig) => {
  const existing = new Set((await dynamodb.send(new ListTablesCommand({}))).TableNames ?? []);
  for (const definition of tableDefinitions(storage.tables)) {
    if (!existing.has(definition.TableName as string)) await dynamodb.send(new CreateTableCommand(definition));
  }
  try {
    await s3.send(new HeadBucketCommand({ Bucket: storage.bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: storage.bucket }));
  }
};

export const startEmulators = async (options: EmulatorOptions = {}): Promise<Emulators> => {
  const storage: StorageConfig = {
    tables: options.tables ?? LOCAL_STORAGE.tables,
    bucket: options.bucket ?? LOCAL_STORAGE.bucket,
  };
  let dynamoPath: string | undefined;
  let s3Dir = options.s3Dir;
  if (options.dataDir) {
    dynamoPath = join(options.dataDir, 'dynamodb');
    s3Dir = join(options.dataDir, 's3');
    mkdirSync(dynamoPath, { recursive: true });
  }
  if (!s3Dir) throw new Error('startEmulators needs dataDir or s3Dir');
  mkdirSync(s3Dir, { recursive: true });

  const dynamo = dynalite({ path: dynamoPath, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const dynamoAddress = await listen(dynamo);
  const s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3Dir });
  const s3Address = (await s3rver.run()) as AddressInfo;

  const endpoints = {
    dynamodb: `http://127.0.0.1:${dynamoAddress.port}`,
    s3: `http://127.0.0.1:${s3Address.port}`,
  };
  const clients = localClients(endpoints);
  await ensureStorage(clients.dynamodb, clients.s3, storage);

  return {
    ...clients,
    storage,
    endpoints,
    async close() {
      clients.dynamodb.destroy();
      clients.s3.destroy();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
      await s3rver.close();
    },
  };
};
