import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Emulators } from '#local/emulators';
import { USAGE_SK_PREFIX } from '#shared/adapters/dynamodb/keys';

/** Every stored item and object, as JSON text, straight from the emulators with the SDK. */
export const storedItems = async (emulators: Emulators): Promise<string[]> => {
  const items: string[] = [];
  for (const table of [emulators.storage.tables.metadata, emulators.storage.tables.log]) {
    let ExclusiveStartKey: Record<string, any> | undefined;
    do {
      const page = await emulators.dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey }));
      for (const item of page.Items ?? []) items.push(`${table} ${JSON.stringify(item)}`);
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }
  let ContinuationToken: string | undefined;
  do {
    const page = await emulators.s3.send(
      new ListObjectsV2Command({ Bucket: emulators.storage.bucket, ContinuationToken }),
    );
    for (const object of page.Contents ?? []) items.push(`s3 ${object.Key} ${object.Size}`);
    ContinuationToken = page.NextContinuationToken;
  } while (ContinuationToken);
  return items;
};

/** A tenant's whole stored state: every item or object that mentions its id, sorted. */
export const tenantSnapshot = async (emulators: Emulators, tenantId: string): Promise<string[]> =>
  (await storedItems(emulators)).filter((line) => line.includes(tenantId)).sort();

/** A tenant's usage shards of one direction (`USAGE#produce#…`), read straight from the metadata table. */
export const usageShards = async (
  emulators: Emulators,
  tenantId: string,
  direction: 'produce' | 'fetch',
): Promise<Record<string, any>[]> => {
  const page = await DynamoDBDocumentClient.from(emulators.dynamodb).send(
    new QueryCommand({
      TableName: emulators.storage.tables.metadata,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :usage)',
      ExpressionAttributeValues: { ':pk': `TENANT#${tenantId}`, ':usage': `USAGE#${direction}#` },
      ConsistentRead: true,
    }),
  );
  return page.Items ?? [];
};

/**
 * Whether a DynamoDB call's input reads or writes a tenant's usage shards (sort keys
 * `USAGE#…`, in its key or its expression values; plain or marshalled as the SDK sees them).
 */
export const isUsageCall = (input: Record<string, unknown>): boolean => {
  const text = (v: unknown) => (typeof v === 'string' ? v : String((v as { S?: unknown } | undefined)?.S ?? ''));
  const sk = (input.Key as { sk?: unknown } | undefined)?.sk;
  const values = Object.values((input.ExpressionAttributeValues as Record<string, unknown> | undefined) ?? {});
  return [sk, ...values].some((v) => text(v).startsWith(USAGE_SK_PREFIX));
};
