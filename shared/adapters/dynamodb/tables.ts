import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * Table schemas. The CDK app declares the same keys (test/infra asserts it); local
 * mode and the tests create the tables from these definitions.
 *
 * - metadata (pk S, sk S): tenants, API keys, topics, groups, idempotency records.
 * - log (pk S, sk N): the partition index; pk = `<tenantId>#<topicId>#<partition>`,
 *   sk = the batch's base offset.
 */
export interface TableNames {
  metadata: string;
  log: string;
}

export const tableDefinitions = (names: TableNames): CreateTableCommandInput[] => [
  {
    TableName: names.metadata,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
  },
  {
    TableName: names.log,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
  },
];
