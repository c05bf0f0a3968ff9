import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { tableDefinitions } from '#shared/adapters/dynamodb/tables';
import { RETENTION_CLASSES } from '#shared/domain/retention';

/** The key schema of a table as `tables.ts` declares it, so the deployed tables cannot drift from local mode's. */
const keysOf = (which: 'metadata' | 'log') => {
  const definition = tableDefinitions({ metadata: 'metadata', log: 'log' }).find((d) => d.TableName === which);
  if (!definition?.KeySchema || !definition.AttributeDefinitions) throw new Error(`tables.ts has no ${which} table`);
  const attribute = (keyType: 'HASH' | 'RANGE'): dynamodb.Attribute => {
    const name = definition.KeySchema?.find((k) => k.KeyType === keyType)?.AttributeName;
    const type = definition.AttributeDefinitions?.find((a) => a.AttributeName === name)?.AttributeType;
    if (!name || !type) throw new Error(`tables.ts: ${which} has no ${keyType} key`);
    return { name, type: type as dynamodb.AttributeType };
  };
  return { partitionKey: attribute('HASH'), sortKey: attribute('RANGE') };
};

/** One expiration rule per retention class (prefix `<class>/`); `forever/` has none, so its objects stay. */
export const retentionLifecycleRules = (): s3.LifecycleRule[] => [
  ...RETENTION_CLASSES.map(
    (c): s3.LifecycleRule => ({ id: `expire-${c.name}`, prefix: `${c.name}/`, expiration: Duration.days(c.days) }),
  ),
  { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
];

/** The bucket's request metrics configuration (4xx/5xx, latency) for the whole bucket: the S3 error alarm needs it. */
export const BUCKET_METRICS_FILTER_ID = 'all-requests';

/**
 * Where the data lives: the metadata and log tables and the segment bucket. All three
 * are retained when the stack is deleted (and the tables refuse deletion) so that
 * tearing down the stack never loses records.
 */
export class RunnelStorage extends Construct {
  readonly metadataTable: dynamodb.Table;
  readonly logTable: dynamodb.Table;
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const tableProps = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    };
    this.metadataTable = new dynamodb.Table(this, 'MetadataTable', { ...tableProps, ...keysOf('metadata') });
    this.logTable = new dynamodb.Table(this, 'LogTable', { ...tableProps, ...keysOf('log') });

    this.bucket = new s3.Bucket(this, 'SegmentBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: false,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: retentionLifecycleRules(),
      metrics: [{ id: BUCKET_METRICS_FILTER_ID }],
    });
  }
}
