import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/**
 * Least-privilege grants, named by what the code does rather than by the CDK's broad
 * `grantReadWriteData` / `grantReadWrite` (which add batch, scan, describe, s3:List*,
 * s3:DeleteObject* and more). Each function gets exactly the actions its code sends.
 */

// Both functions send the same item-level calls: single-item conditional writes and
// queries, never a scan or batch (docs/architecture.md); maintenance trims and compacts with them
// too. What differs between the functions is the bucket access below.
const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
];

/** The stream function only reads the log: the point reads and queries of a fetch. */
const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query'];

/** Grants the table's item actions on this table only (and its indexes, if it ever has any). */
export const bindTable = ({
  grantee,
  table,
  access = 'RW',
}: {
  grantee: iam.IGrantable;
  table: dynamodb.ITable;
  /** @default 'RW' */
  access?: 'RW' | 'READ';
}): iam.Grant => table.grant(grantee, ...(access === 'READ' ? TABLE_READ_ACTIONS : TABLE_ACTIONS));

export type BucketAccess = 'READ' | 'API' | 'RW';

const OBJECT_ACTIONS: Record<BucketAccess, string[]> = {
  // Streams read byte ranges of segments, nothing else.
  READ: ['s3:GetObject'],
  // Produce writes one segment object; fetch reads byte ranges of it.
  API: ['s3:GetObject', 's3:PutObject'],
  // Maintenance compacts (read, write) and deletes segments.
  RW: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
};

/** Object actions on the bucket's objects; `RW` adds s3:ListBucket on the bucket itself. */
export const bindBucket = ({
  grantee,
  bucket,
  access,
}: {
  grantee: iam.IGrantable;
  bucket: s3.IBucket;
  access: BucketAccess;
}): void => {
  iam.Grant.addToPrincipal({
    grantee,
    actions: OBJECT_ACTIONS[access],
    resourceArns: [bucket.arnForObjects('*')],
  });
  if (access === 'RW') {
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [bucket.bucketArn] });
  }
};

/** Reading the secret's value, nothing else (not DescribeSecret, not the other secrets). */
export const bindSecretValue = ({
  grantee,
  secret,
}: {
  grantee: iam.IGrantable;
  secret: secretsmanager.ISecret;
}): iam.Grant =>
  iam.Grant.addToPrincipal({ grantee, actions: ['secretsmanager:GetSecretValue'], resourceArns: [secret.secretArn] });
