/**
 * `@runnel/client`: the TypeScript client of Runnel. One {@link Runnel} client gives
 * admin calls and creates a {@link Producer}, {@link Consumer} or {@link Reader}.
 *
 * @packageDocumentation
 */
export {
  encodeProduceBody,
  type FetchOptions,
  type ProduceInput,
  type ProduceRequestOptions,
  Runnel,
  type RunnelOptions,
} from './client';
export {
  Consumer,
  type ConsumerBatch,
  type ConsumerEvents,
  type ConsumerOptions,
  type EachBatchPayload,
  type EachMessagePayload,
  type RunOptions,
} from './consumer';
export { base64ToBytes, bytesToBase64, bytesToText } from './encoding';
export {
  type ProblemDocument,
  RunnelError,
  type RunnelErrorCode,
  type RunnelErrorOptions,
  type TopicPartitions,
} from './errors';
export { type BackoffOptions, backoffDelay, type ConnectionOptions, type FetchLike } from './http';
export { keyBytes, murmur2, partitionForKey } from './partitioner';
export { type PendingRecord, PRODUCER_DEFAULTS, Producer, type ProducerOptions } from './producer';
export { type PartitionSource, Reader, type ReaderBatch, type ReaderOptions, type ReaderStart } from './reader';
export type * from './types';
