import type { Context } from 'hono';
import * as v from 'valibot';
import { API_KEY_CACHE_MS, FETCH_DEFAULTS, FETCH_LIMITS, type StreamTiming } from '#shared/constants';
import { invalidRequest, RunnelError, tokenExpired } from '#shared/domain/errors';
import type { Authenticator, TenantPrincipal } from '#shared/services/auth';
import type { OffsetSpec } from '#shared/services/fetch';
import type { QuotaService } from '#shared/services/quotas';
import {
  parsePartitionEventId,
  parseTopicEventId,
  type RecordEventSource,
  type RecordStreams,
  type StreamEvent,
  type TopicStart,
} from '#shared/services/record-stream';
import type { TopicService } from '#shared/services/topics';
import type { WaiterQuota } from '#shared/services/waiter-quota';
import type { AppEnv } from '../env';
import { authorize, wantsEventStream } from '../middleware/auth';
import { createRoute, newRouter, problem, problemResponses, throttledResponse } from '../router';
import { EncodingSchema, intQuery, optionalIntQuery, TopicParamSchema } from '../schemas';
import { STREAM_SECURITY } from '../streaming/openapi';
import { SSE_HEADERS, type StreamFaults, sseBody } from '../streaming/sse';
import { type Encoding, encodeRecord } from '../wire';

export interface StreamRoutesDeps {
  authenticator: Authenticator;
  topics: TopicService;
  streams: RecordStreams;
  quotas: QuotaService;
  /** A tenant's open streams count with its long polls. */
  waiterQuota: WaiterQuota;
  clock: () => number;
  timing: StreamTiming;
  faults?: StreamFaults | undefined;
  log: (entry: Record<string, unknown>) => void;
}

/**
 * Opens a stream's source under the tenant's waiter quota (429 beyond it) and answers the
 * stream; the place is given back when the stream ends, or at once if it never opens.
 */
const respond = async (
  c: Context<AppEnv>,
  deps: StreamRoutesDeps,
  principal: TenantPrincipal,
  open: () => Promise<RecordEventSource>,
  data: (event: StreamEvent) => unknown,
) => {
  const leave = deps.waiterQuota.enter(principal.tenantId);
  let source: RecordEventSource;
  try {
    source = await open();
  } catch (error) {
    leave();
    throw error;
  }
  // A stream outlives the key cache: every few seconds it confirms from storage that the
  // key (and tenant) still stand and a browser token has not expired, so revoking a key
  // ends its open streams too.
  let confirmedAt = deps.clock();
  const beforeSend = async (event: StreamEvent) => {
    if (principal.token && principal.token.expiresAt <= deps.clock()) throw tokenExpired();
    if (deps.clock() - confirmedAt >= API_KEY_CACHE_MS) {
      await deps.authenticator.confirm(principal);
      confirmedAt = deps.clock();
    }
    if (event.event === 'records') await deps.quotas.recordFetchedRecords(principal, event.records);
  };
  return new Response(
    sseBody({
      source,
      data,
      timing: deps.timing,
      clock: deps.clock,
      faults: deps.faults,
      beforeSend,
      onEnd: leave,
      onError: (error) => {
        if (error.status < 500) return;
        const cause = error.cause ?? error;
        deps.log({
          level: 'error',
          msg: 'stream failed',
          requestId: c.get('requestId'),
          path: new URL(c.req.url).pathname,
          code: error.code,
          error:
            cause instanceof Error ? { name: cause.name, message: cause.message, stack: cause.stack } : String(cause),
        });
      },
    }),
    { status: 200, headers: SSE_HEADERS },
  );
};

/** `Last-Event-ID` of a reconnecting EventSource, if any (it wins over `offset`). */
const lastEventId = (c: Context<AppEnv>) => {
  const id = c.req.header('Last-Event-ID')?.trim();
  return id ? id : undefined;
};

/**
 * `GET /topics/{topic}/partitions/{p}/records` with `Accept: text/event-stream`: the
 * records route's stream. The route has checked the key, topic and partition.
 */
export const partitionStream = async (
  c: Context<AppEnv>,
  deps: StreamRoutesDeps,
  principal: TenantPrincipal,
  target: { topic: Awaited<ReturnType<TopicService['get']>>; partition: number },
  query: { offset: OffsetSpec; maxRecords: number; maxBytes: number; encoding: Encoding },
) => {
  const resume = lastEventId(c);
  const from = resume === undefined ? query.offset : parsePartitionEventId(resume);
  deps.quotas.checkFetch(principal);
  return respond(
    c,
    deps,
    principal,
    () => deps.streams.partition(target.topic, target.partition, from, query, deps.clock),
    (event) =>
      event.event === 'records'
        ? {
            records: event.records.map((r) => encodeRecord(r, query.encoding)),
            nextOffset: event.result.nextOffset,
            highWatermark: event.result.highWatermark,
            logStartOffset: event.result.logStartOffset,
          }
        : { highWatermark: event.highWatermarks[0]?.highWatermark },
  );
};

const TopicStreamQuerySchema = v.object({
  offset: v.pipe(
    v.optional(v.picklist(['earliest', 'latest'], 'offset of a topic stream is "earliest" or "latest".')),
    v.description('Where every partition starts: "latest" (default) or "earliest".'),
  ),
  /** Start every partition at its first record at or after this time (ms since epoch). */
  timestamp: optionalIntQuery('timestamp', 0, 8_640_000_000_000_000),
  maxRecords: intQuery('maxRecords', 1, FETCH_LIMITS.maxRecords, FETCH_DEFAULTS.maxRecords),
  maxBytes: intQuery('maxBytes', 1, FETCH_LIMITS.maxBytes, FETCH_DEFAULTS.maxBytes),
  encoding: v.optional(EncodingSchema, 'utf8'),
});

const TOPIC_STREAM_DESCRIPTION =
  "Server-Sent Events over every partition: `records` events (data: one partition's records, each carrying " +
  '`partition`; id: the next offset of every partition, `0:15,1:7,2:0`), a `ping` event at least every 15 s ' +
  '(data: `{"highWatermarks"}`), and an `error` event (problem details) that ends the stream. A reconnect with ' +
  '`Last-Event-ID` in that form resumes exactly.';

/** `GET /topics/{topic}/records`: every partition of a topic merged into one stream. */
export const streamRoutes = (deps: StreamRoutesDeps) => {
  const app = newRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/topics/{topic}/records',
      operationId: 'streamTopic',
      summary: 'Follow every partition of a topic (Server-Sent Events)',
      tags: ['Records'],
      security: STREAM_SECURITY,
      request: { params: TopicParamSchema, query: TopicStreamQuerySchema },
      responses: {
        200: {
          content: { 'text/event-stream': { schema: v.pipe(v.string(), v.description(TOPIC_STREAM_DESCRIPTION)) } },
          description: 'The stream',
        },
        406: problem('`not_acceptable`: this route only streams; send `Accept: text/event-stream`'),
        416: problem('`offset_out_of_range`: a `Last-Event-ID` offset outside a partition’s log'),
        ...problemResponses,
        ...throttledResponse,
      },
    }),
    async (c) => {
      const { topic: name } = c.req.valid('param');
      const principal = authorize(c, `topic:${name}`, 'consume');
      if (!wantsEventStream(c.req.header('Accept'))) {
        throw new RunnelError(
          'not_acceptable',
          'This route streams the whole topic: send Accept: text/event-stream (fetch one partition with JSON).',
        );
      }
      const query = c.req.valid('query');
      if (query.offset !== undefined && query.timestamp !== undefined) {
        throw invalidRequest('Give offset or timestamp, not both.');
      }
      const topic = await deps.topics.get(principal.tenantId, name);
      const id = lastEventId(c);
      const resume = id === undefined ? undefined : parseTopicEventId(id, topic.partitions);
      const start: TopicStart =
        query.timestamp !== undefined
          ? { kind: 'timestamp', timestamp: query.timestamp }
          : { kind: 'offset', offset: query.offset ?? 'latest' };
      deps.quotas.checkFetch(principal);
      return respond(
        c,
        deps,
        principal,
        () => deps.streams.topic(topic, start, resume, query, deps.clock),
        (event) =>
          event.event === 'records'
            ? {
                partition: event.partition,
                records: event.records.map((r) => ({ partition: event.partition, ...encodeRecord(r, query.encoding) })),
                nextOffset: event.result.nextOffset,
                highWatermark: event.result.highWatermark,
                logStartOffset: event.result.logStartOffset,
              }
            : { highWatermarks: event.highWatermarks },
      ) as never;
    },
  );

  return app;
};
