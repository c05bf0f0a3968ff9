import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type {
  DeleteCommand,
  DeleteCommandOutput,
  DynamoDBDocumentClient,
  PutCommand,
  PutCommandOutput,
  UpdateCommand,
  UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';

/** Whether a write was refused by its ConditionExpression (and by nothing else). */
export const isConditionFailure = (error: unknown): error is ConditionalCheckFailedException =>
  error instanceof ConditionalCheckFailedException;

type ConditionalWrite = PutCommand | UpdateCommand | DeleteCommand;
type OutputOf<C extends ConditionalWrite> = C extends PutCommand
  ? PutCommandOutput
  : C extends UpdateCommand
    ? UpdateCommandOutput
    : DeleteCommandOutput;

/**
 * Sends a conditional write for which a failed condition is an ordinary outcome: the
 * command's output, or undefined when the condition failed. Every other error is thrown.
 */
export const sendConditional = async <C extends ConditionalWrite>(
  client: DynamoDBDocumentClient,
  command: C,
): Promise<OutputOf<C> | undefined> => {
  try {
    // `send` is overloaded per command type and accepts no union of them, hence the casts.
    return (await client.send(command as PutCommand)) as OutputOf<C>;
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
};
