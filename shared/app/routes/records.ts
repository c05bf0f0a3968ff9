import * as v from 'valibot';
import type { Limits } from '#shared/constants';
import { invalidRequest, partitionNotFound } from '#shared/domain/errors';
import { recordSize } from '#shared/domain/records';
import { int } from '#shared/domain/validation';
import type { Topic } from '#shared/ports/metadata-store';
import type { Authenticator } from '#shared/services/auth';
import type { ExactlyOnceProducer, Idempotency } from '#shared/services/exactly-once';
import type { FetchResult, FetchService } from '#shared/services/fetch';
import { ProduceService } from '#shared/services/produce';
import type { QuotaService } from '#shared/services/quotas';
import { requestHash } from '#shared/services/request-hash';
import { TopicChangedError, type TopicService } from '#shared/services/topics';
import { authorize, wantsEventStream } from '../middleware/auth';
import { bodyProblemResponses, createRoute, newRouter, problem, problemResponses, throttledResponse } from '../router';
import {
  FetchQuerySchema,
  FetchResponseSchema,
  optionalIntQuery,
  PartitionParamSchema,
  ProduceResponseSchema,
  ProduceSchema,
  TopicParamSchema,
} from '../schemas';
import { PARTITION_STREAM_DESCRIPTION, STREAM_SECURITY } from '../streaming/openapi';
import { decodeRecord, encodeRecord } from '../wire';
import type { partitionStream } from './streams';

type PartitionStreamArgs = Parameters<typeof partitionStream>;

export interface RecordRoutesDeps {
  topics: TopicService;
  producer: ProduceService;
  exactlyOnce: Pick<ExactlyOnceProducer, 'produce'>;
  fetcher: FetchService;
  limits: Limits;
  quotas: QuotaService;
  authenticator: Authenticator;
  /**
   * `Accept: text/event-stream` on the fetch route: answers with the partition's stream
   * (`partitionStream` in `streams.ts`, whose code is loaded on the first stream).
   */
  partitionStream: (
    c: PartitionStreamArgs[0],
    principal: PartitionStreamArgs[2],
    target: PartitionStreamArgs[3],
    query: PartitionStreamArgs[4],
  ) => Promise<Response>;
}

/** `Idempotency-Key`: 1 to 255 printable ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

/**
 * Documents the header; the handler checks it (one message for every malformed key).
 * Request headers reach a schema with lower-case names, so this one validates nothing.
 */
const IdempotencyHeaderSchema = v.object({
  'Idempotency-Key': v.optional(
    v.pipe(
      v.string(),
      v.minLength(1),
      v.maxLength(255),
      v.regex(IDEMPOTENCY_KEY),
      v.description(
        'Makes the produce exactly-once: a retry with the same key and body returns the first offsets and appends nothing. 1-255 printable ASCII characters, kept 24 h per tenant. Not with `producerId`.',
      ),
      v.examples(['order-42']),
    ),
  ),
});

export const recordRoutes = ({
  topics,
  producer,
  exactlyOnce,
  fetcher,
  limits,
  quotas,
  authenticator,
  partitionStream,
}: RecordRoutesDeps) => {
  const app = newRouter();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/topics/{topic}/records',
      operationId: 'produce',
      summary: 'Produce records',
      tags: ['Records'],
      request: {
        params: TopicParamSchema,
        headers: IdempotencyHeaderSchema,
        body: { content: { 'application/json': { schema: ProduceSchema } }, required: true },
      },
      responses: {
        200: {
          content: { 'application/json': { schema: ProduceResponseSchema } },
          description: 'Durable offsets, in input order',
        },
        409: problem(
          '`idempotency_in_progress` (an earlier attempt holds the request; retry after `Retry-After`), `out_of_order_sequence` (carries `expectedSequence`), `duplicate_sequence` (too old to be answered again)',
          { retryAfter: true },
        ),
        422: problem('`idempotency_key_reused`: the key was used with another request body'),
        ...bodyProblemResponses,
        ...problemResponses,
        ...throttledResponse,
      },
    }),
    async (c) => {
      const { topic: name } = c.req.valid('param');
      const principal = authorize(c, `topic:${name}`, 'produce');
      const body = c.req.valid('json');
      const key = c.req.header('idempotency-key');
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
        throw invalidRequest('Idempotency-Key is 1 to 255 printable ASCII characters.');
      }
      if (key !== undefined && body.producerId !== undefined) {
        throw invalidRequest('Use either an Idempotency-Key or producerId + sequence, not both.');
      }
      const records = body.records.map((r, i) => decodeRecord(r, body.encoding, i));
      // Everything that can refuse the request runs before the rate quota counts it, and
      // the quota is checked before anything is written: a throttled produce writes nothing.
      ProduceService.checkLimits(records, limits);
      quotas.refuseEarly(principal);
      const bytes = records.reduce((n, r) => n + recordSize(r), 0);
      const checkPartitions = (topic: Topic) => {
        for (const r of records) {
          if (r.partition !== undefined && r.partition >= topic.partitions) {
            throw partitionNotFound(topic.name, r.partition, topic.partitions);
          }
        }
      };
      const options = { limits };
      let idempotency: Idempotency | undefined;
      if (key !== undefined) idempotency = { kind: 'key', key };
      else if (body.producerId !== undefined && body.sequence !== undefined) {
        idempotency = { kind: 'sequence', producerId: body.producerId, sequence: body.sequence };
      }
      const planned = idempotency ? undefined : topics.recall(principal.tenantId, name);
      if (planned && records.every((r) => r.partition === undefined || r.partition < planned.partitions)) {
        // The fast path: plan with the topic as this instance last read it and validate it
        // alongside the offset reservations and the segment PUT; the quota decides before any write.
        // The usage write runs beside the append and the answer does not wait for it.
        const admitted = quotas.admitProduce(principal, bytes);
        const validated = topics.validate(principal.tenantId, planned);
        try {
          const result = await producer.produce(planned, records, {
            ...options,
            writeGate: admitted,
            commitGate: validated,
          });
          return c.json({ offsets: result.offsets }, 200);
        } catch (error) {
          if (!(error instanceof TopicChangedError)) throw error;
          // Nothing was appended (the commit gate failed): produce to the topic as it is now.
          await admitted;
          checkPartitions(error.topic);
          return c.json({ offsets: (await producer.produce(error.topic, records, options)).offsets }, 200);
        } finally {
          // Both are awaited by the appends; observe them here too for a request with no append.
          await Promise.allSettled([admitted, validated]);
        }
      }
      // The usage read (when this instance's is stale) runs alongside the topic lookup.
      const [topic] = await Promise.all([topics.get(principal.tenantId, name), quotas.prepare(principal)]);
      checkPartitions(topic);
      // The usage write runs beside the append; the answer does not wait for it.
      await quotas.admitProduce(principal, bytes);
      if (!idempotency) return c.json({ offsets: (await producer.produce(topic, records, options)).offsets }, 200);
      const hash = requestHash('POST', `/v1/topics/${name}/records`, body);
      const result = await exactlyOnce.produce(topic, records, idempotency, hash, options);
      return c.json({ offsets: result.offsets }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/topics/{topic}/partitions/{partition}/records',
      operationId: 'fetch',
      summary: 'Fetch records from a partition, or follow it (Server-Sent Events)',
      tags: ['Records'],
      security: STREAM_SECURITY,
      request: { params: PartitionParamSchema, query: FetchQuerySchema },
      responses: {
        200: {
          content: {
            'application/json': { schema: FetchResponseSchema },
            'text/event-stream': { schema: v.pipe(v.string(), v.description(PARTITION_STREAM_DESCRIPTION)) },
          },
          description: 'Records in offset order; with `Accept: text/event-stream`, a stream of them',
        },
        416: problem('`offset_out_of_range`, with `logStartOffset` and `highWatermark`'),
        ...problemResponses,
        ...throttledResponse,
      },
    }),
    async (c) => {
      const { topic: name, partition } = c.req.valid('param');
      const principal = authorize(c, `topic:${name}`, 'consume');
      const query = c.req.valid('query');
      if (wantsEventStream(c.req.header('Accept'))) {
        const [topic] = await Promise.all([topics.get(principal.tenantId, name), quotas.prepare(principal)]);
        topics.checkPartition(topic, partition);
        return (await partitionStream(c, principal, { topic, partition }, query)) as never;
      }
      // Refused on what this instance knows now (a stale view is refreshed alongside the reads).
      quotas.checkFetch(principal);
      const planned = topics.recall(principal.tenantId, name);
      let result: FetchResult;
      if (planned && partition < planned.partitions) {
        // Read with the topic as this instance last read it, validating it alongside: a
        // deleted topic answers 404 however its data was read.
        const [validation, fetched, prepared] = await Promise.allSettled([
          topics.validate(principal.tenantId, planned),
          fetcher.fetch(planned, partition, query),
          quotas.prepare(principal),
        ]);
        if (validation.status === 'rejected') {
          if (!(validation.reason instanceof TopicChangedError)) throw validation.reason;
          // Recreated, grown or retention changed: read again with the topic as it is now.
          const topic = validation.reason.topic;
          topics.checkPartition(topic, partition);
          result = await fetcher.fetch(topic, partition, query);
        } else if (fetched.status === 'rejected') throw fetched.reason;
        else result = fetched.value;
        if (prepared.status === 'rejected') throw prepared.reason;
      } else {
        const [topic] = await Promise.all([topics.get(principal.tenantId, name), quotas.prepare(principal)]);
        topics.checkPartition(topic, partition);
        result = await fetcher.fetch(topic, partition, query);
      }
      if (result.waited && result.records.length > 0) await authenticator.confirm(principal);
      quotas.recordFetchedRecords(principal, result.records);
      // The usage calls prepare sent run beside the reads; the answer does not wait for them.
      return c.json(
        {
          records: result.records.map((r) => encodeRecord(r, query.encoding)),
          nextOffset: result.nextOffset,
          highWatermark: result.highWatermark,
          logStartOffset: result.logStartOffset,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/topics/{topic}/partitions/{partition}/offsets',
      operationId: 'offsetForTimestamp',
      summary: 'Find the first offset at or after a timestamp',
      tags: ['Records'],
      request: {
        params: PartitionParamSchema,
        query: v.object({ timestamp: optionalIntQuery('timestamp', 0, 8_640_000_000_000_000) }),
      },
      responses: {
        200: {
          content: { 'application/json': { schema: v.object({ offset: int() }) } },
          description: 'The first offset whose timestamp is at or after `timestamp`, or the high watermark',
        },
        ...problemResponses,
      },
    }),
    async (c) => {
      const { topic: name, partition } = c.req.valid('param');
      const { tenantId } = authorize(c, `topic:${name}`, 'consume');
      const { timestamp } = c.req.valid('query');
      if (timestamp === undefined) throw invalidRequest('timestamp is required (ms since epoch).');
      const topic = await topics.get(tenantId, name);
      topics.checkPartition(topic, partition);
      const offset = await fetcher.offsetForTimestamp(topic, partition, timestamp);
      return c.json({ offset }, 200);
    },
  );

  return app;
};
