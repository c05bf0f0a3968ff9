import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, type AssumeRoleCommandOutput, type STSClient } from '@aws-sdk/client-sts';
import { type SinkBucket, SinkBucketError, type SinkObjectStore } from '#shared/ports/sink-object-store';

const put = (client: S3Client, target: SinkBucket, key: string, body: Uint8Array) =>
  client.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: key,
      Body: body,
      ContentType: 'application/x-ndjson',
      ContentEncoding: 'gzip',
    }),
  );

/** S3 errors the user fixes (bucket, policy, role), as opposed to transient ones. */
const USER_ERRORS = new Set([
  'NoSuchBucket',
  'AccessDenied',
  'AllAccessDisabled',
  'InvalidBucketName',
  'PermanentRedirect',
]);

const asSinkError = (error: unknown, bucket: string): unknown => {
  const name = (error as S3ServiceException | undefined)?.name;
  return name && USER_ERRORS.has(name) ? new SinkBucketError(`s3 refused the write to '${bucket}' (${name}).`) : error;
};

/**
 * Local mode: the sink's bucket lives in the local S3 emulator, created on first use.
 * The service's own buckets are refused, so a connector cannot write into segment data.
 */
export class LocalSinkObjectStore implements SinkObjectStore {
  private readonly ready = new Set<string>();

  constructor(
    private readonly s3: S3Client,
    private readonly reservedBuckets: readonly string[],
  ) {}

  async put(target: SinkBucket, key: string, body: Uint8Array): Promise<void> {
    if (this.reservedBuckets.includes(target.bucket)) {
      throw new SinkBucketError(`Bucket '${target.bucket}' belongs to the service.`);
    }
    if (!this.ready.has(target.bucket)) {
      try {
        await this.s3.send(new HeadBucketCommand({ Bucket: target.bucket }));
      } catch {
        await this.s3.send(new CreateBucketCommand({ Bucket: target.bucket }));
      }
      this.ready.add(target.bucket);
    }
    await put(this.s3, target, key, body);
  }
}

/** Assumed-role credentials are renewed this long before they expire. */
const RENEW_BEFORE_MS = 2 * 60_000;
const SESSION_SECONDS = 900;

/**
 * AWS: writes to the tenant's own bucket as a role of the tenant's, assumed with the
 * tenant id as external id (so no tenant can make the service act in another tenant's
 * account: the role's trust policy names that id, and the id comes from the key that
 * created the connector). One S3 client per tenant and role, cached until the session
 * nears its end.
 */
export class AssumeRoleSinkObjectStore implements SinkObjectStore {
  private readonly sessions = new Map<string, { client: S3Client; renewAt: number }>();

  constructor(
    private readonly sts: STSClient,
    private readonly region: string | undefined,
    private readonly clock: () => number = Date.now,
  ) {}

  private async client(target: SinkBucket): Promise<S3Client> {
    if (!target.roleArn) throw new SinkBucketError('roleArn is required to write to a bucket in AWS.');
    const cacheKey = `${target.tenantId}\n${target.roleArn}`;
    const cached = this.sessions.get(cacheKey);
    if (cached && cached.renewAt > this.clock()) return cached.client;
    let assumed: AssumeRoleCommandOutput;
    try {
      assumed = await this.sts.send(
        new AssumeRoleCommand({
          RoleArn: target.roleArn,
          ExternalId: target.tenantId,
          RoleSessionName: `runnel-connector-${target.connector}`.slice(0, 64),
          DurationSeconds: SESSION_SECONDS,
        }),
      );
    } catch (error) {
      throw new SinkBucketError(`The role ${target.roleArn} could not be assumed (${(error as Error).name}).`);
    }
    const credentials = assumed.Credentials;
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) {
      throw new SinkBucketError(`Assuming ${target.roleArn} returned no credentials.`);
    }
    cached?.client.destroy();
    const client = new S3Client({
      region: this.region,
      followRegionRedirects: true,
      credentials: {
        accessKeyId: credentials.AccessKeyId,
        secretAccessKey: credentials.SecretAccessKey,
        sessionToken: credentials.SessionToken,
      },
    });
    const expires = credentials.Expiration?.getTime() ?? this.clock() + SESSION_SECONDS * 1000;
    this.sessions.set(cacheKey, { client, renewAt: expires - RENEW_BEFORE_MS });
    return client;
  }

  async put(target: SinkBucket, key: string, body: Uint8Array): Promise<void> {
    const client = await this.client(target);
    try {
      await put(client, target, key, body);
    } catch (error) {
      throw asSinkError(error, target.bucket);
    }
  }
}
