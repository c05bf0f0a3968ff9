import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '#shared/domain/errors';
import { OffsetTakenError } from '#shared/ports/log-index';
import { awsPorts } from './aws';
import { classifyStorageError } from './storage-errors';

const named = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(name), { name, ...extra });

describe('classifyStorageError', () => {
  it.each([
    [named('ThrottlingException')],
    [named('ProvisionedThroughputExceededException')],
    [named('SlowDown')],
    [named('TimeoutError')],
    [named('Error', { code: 'ECONNRESET' })],
    [named('InternalFailure', { $fault: 'server' })],
  ])('turns a transient storage failure (%s) into the domain storage-unavailable error (503)', (error) => {
    const mapped = classifyStorageError(error);
    expect(mapped).toBeInstanceOf(StorageUnavailableError);
    const e = mapped as StorageUnavailableError;
    expect(e.status).toBe(503);
    expect(e.code).toBe('unavailable');
    expect(e.retryAfterSeconds).toBe(1);
    expect(e.retriable).toBe(true);
    expect(e.cause).toBe(error);
  });

  it('passes every other error unchanged (the adapters map conditional failures themselves)', () => {
    const conditional = named('ConditionalCheckFailedException', { $fault: 'client' });
    expect(classifyStorageError(conditional)).toBe(conditional);
    const bug = new TypeError('boom');
    expect(classifyStorageError(bug)).toBe(bug);
  });
});

describe('awsPorts', () => {
  /** Clients whose every call fails with `error` before it leaves the process (no retries). */
  const failingPorts = (error: () => Error) => {
    const config = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 };
    const dynamodb = new DynamoDBClient({ ...config, endpoint: 'http://127.0.0.1:9' });
    const s3 = new S3Client({ ...config, endpoint: 'http://127.0.0.1:9', forcePathStyle: true });
    for (const client of [dynamodb, s3] as unknown as { middlewareStack: { add: (m: unknown, o: object) => void } }[]) {
      client.middlewareStack.add(
        () => async () => {
          throw error();
        },
        { step: 'finalizeRequest', name: 'fail' },
      );
    }
    return awsPorts({ dynamodb, s3 }, { tables: { metadata: 'm', log: 'l' }, bucket: 'b' });
  };
  const partition = { tenantId: 't', topicId: 'x', partition: 0 };

  it('hands the services the domain storage-unavailable error, never the SDK’s', async () => {
    const ports = failingPorts(() => named('ThrottlingException', { $fault: 'client' }));
    await expect(ports.index.last(partition)).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(ports.segments.getRange('k', 0, 1)).rejects.toBeInstanceOf(StorageUnavailableError);
  });

  it('still lets the adapters see a failed condition and turn it into their port error', async () => {
    const ports = failingPorts(
      () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
    );
    const entry = {
      baseOffset: 0,
      recordCount: 1,
      appendTime: 1,
      maxTimestamp: 1,
      sizeBytes: 1,
      location: { kind: 'inline' as const, data: new Uint8Array([1]) },
    };
    await expect(ports.index.append(partition, entry)).rejects.toBeInstanceOf(OffsetTakenError);
  });
});
