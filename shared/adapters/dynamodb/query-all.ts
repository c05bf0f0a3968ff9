import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';

/**
 * The pages of a query in order, following pagination to the end. Each page is read
 * only once the previous one has been consumed, so a caller may act on a page (even
 * delete its items) before the next is read.
 */
export async function* queryPages(
  client: DynamoDBDocumentClient,
  tableName: string,
  input: Omit<QueryCommandInput, 'TableName'>,
): AsyncGenerator<QueryCommandOutput, void, undefined> {
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new QueryCommand({ ...input, TableName: tableName, ExclusiveStartKey }));
    yield page;
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
}

/** Every item of a query, following pagination to the end. For small, bounded item sets (listings). */
export const queryAll = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  input: Omit<QueryCommandInput, 'TableName'>,
): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  for await (const page of queryPages(client, tableName, input)) items.push(...(page.Items ?? []));
  return items;
};
