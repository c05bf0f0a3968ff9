import { LONG_POLL_INTERVAL_MS } from '#shared/services/long-poll';
import { reChecksPerHour } from './latency-model';
import { AWS_PRICES } from './prices';

/**
 * $ per connected browser-hour of a live stream, two ways, from list prices (us-east-1,
 * on-demand; see prices.ts) and the call counts of the code as it is:
 *
 * - Chosen: Server-Sent Events from the stream function (Lambda response streaming
 *   behind a Function URL). One invocation per open stream, billed for every second it
 *   is open; the long poll under it reads the partition's tail every
 *   LONG_POLL_INTERVAL_MS, one strongly consistent read each; an event costs one
 *   bounds query and one index query, plus the fetch-quota write.
 * - Rejected: API Gateway WebSocket API, with a fan-out function fed by DynamoDB Streams
 *   posting each event to each connection (PostToConnection), and a connection registry.
 */
export const STREAM_PRICES = {
  /** Lambda response streaming: $ per GB streamed beyond the first 6 MB of a response. */
  lambdaStreamedGbBeyond6Mb: 0.008,
  apiGatewayWebSocket: {
    /** $ per million messages (each 32 KB or part of it), first billion a month. */
    message: 1.0 / 1e6,
    /** $ per million connection-minutes. */
    connectionMinute: 0.25 / 1e6,
  },
  /** $ per GB to the internet, first 10 TB a month (the same for both designs). */
  dataTransferOutGb: 0.09,
} as const;

export interface StreamCostAssumptions {
  /** Memory of the stream function. */
  streamFunctionMb: number;
  /** How long a stream lasts before the client reconnects. */
  streamMinutes: number;
  /** Partitions the browser follows (a topic stream polls each). */
  partitions: number;
  /** Tail reads per second per partition while waiting. */
  tailReadsPerSecond: number;
  /** DynamoDB reads per event (bounds + index query) and writes (fetch quota). */
  readsPerEvent: number;
  writesPerEvent: number;
  /** Bytes of one event on the wire. */
  eventBytes: number;
  /** WebSocket: the fan-out function's billed time per PostToConnection, at 256 MB. */
  fanOutMsPerMessage: number;
  /** WebSocket: the connection registry's reads per event per connection (one query returns many ids). */
  registryReadsPerMessage: number;
}

export const DEFAULT_STREAM_COST_ASSUMPTIONS: StreamCostAssumptions = {
  streamFunctionMb: 256,
  streamMinutes: 14,
  partitions: 1,
  // One read per re-check: the wait, then the read itself.
  tailReadsPerSecond: reChecksPerHour(LONG_POLL_INTERVAL_MS) / 3600,
  readsPerEvent: 2,
  writesPerEvent: 1,
  eventBytes: 400,
  fanOutMsPerMessage: 5,
  registryReadsPerMessage: 0.01,
};

export interface StreamCost {
  /** $ per browser-hour, with its parts. */
  total: number;
  parts: Record<string, number>;
}

const SECONDS_PER_HOUR = 3600;

/** The chosen design: SSE from Lambda response streaming. */
export const sseCostPerHour = (eventsPerSecond: number, a = DEFAULT_STREAM_COST_ASSUMPTIONS): StreamCost => {
  const { lambda, dynamodb } = AWS_PRICES;
  const events = eventsPerSecond * SECONDS_PER_HOUR;
  const bytes = events * a.eventBytes;
  const invocations = 60 / a.streamMinutes;
  const bytesPerInvocation = bytes / invocations;
  const parts = {
    lambdaDuration: (a.streamFunctionMb / 1024) * SECONDS_PER_HOUR * lambda.gbSecondArm64,
    lambdaRequests: invocations * lambda.request,
    lambdaStreamedBytes:
      (invocations * Math.max(0, bytesPerInvocation - 6 * 1024 ** 2) * STREAM_PRICES.lambdaStreamedGbBeyond6Mb) /
      1024 ** 3,
    dynamodbTailReads: a.partitions * a.tailReadsPerSecond * SECONDS_PER_HOUR * dynamodb.readRequestUnit,
    dynamodbEventReads: events * a.readsPerEvent * dynamodb.readRequestUnit,
    dynamodbQuotaWrites: events * a.writesPerEvent * dynamodb.writeRequestUnit,
    dataTransferOut: (bytes * STREAM_PRICES.dataTransferOutGb) / 1024 ** 3,
  };
  return { total: Object.values(parts).reduce((x, y) => x + y, 0), parts };
};

/** The rejected design: API Gateway WebSocket API with a DynamoDB Streams fan-out. */
export const webSocketCostPerHour = (eventsPerSecond: number, a = DEFAULT_STREAM_COST_ASSUMPTIONS): StreamCost => {
  const { lambda, dynamodb } = AWS_PRICES;
  const ws = STREAM_PRICES.apiGatewayWebSocket;
  const events = eventsPerSecond * SECONDS_PER_HOUR;
  const bytes = events * a.eventBytes;
  // A client keeps an idle connection open (10 min idle timeout) with a ping every 5 min.
  const keepAlives = 12;
  const parts = {
    connectionMinutes: 60 * ws.connectionMinute,
    messages: (events + keepAlives) * Math.ceil(a.eventBytes / (32 * 1024)) * ws.message,
    fanOutLambda: events * (a.fanOutMsPerMessage / 1000) * (256 / 1024) * lambda.gbSecondArm64,
    registryReads: events * a.registryReadsPerMessage * dynamodb.readRequestUnit,
    // Connections last at most 2 hours: a $connect write and a $disconnect delete.
    registryWrites: 0.5 * 2 * dynamodb.writeRequestUnit,
    dataTransferOut: (bytes * STREAM_PRICES.dataTransferOutGb) / 1024 ** 3,
  };
  return { total: Object.values(parts).reduce((x, y) => x + y, 0), parts };
};

const dollars = (n: number) => `$${n < 0.001 ? n.toExponential(2) : n.toFixed(4)}`;

/** The four figures, printed by `npm run bench`. */
export const streamCostLines = (a = DEFAULT_STREAM_COST_ASSUMPTIONS): string[] =>
  [0, 1].flatMap((rate) => {
    const label = rate === 0 ? 'idle' : `${rate} event/s`;
    const sse = sseCostPerHour(rate, a);
    const ws = webSocketCostPerHour(rate, a);
    return [
      `$/browser-hour, SSE on Lambda response streaming, ${label}: ${dollars(sse.total)} (Lambda duration ${dollars(sse.parts.lambdaDuration as number)}, tail reads ${dollars(sse.parts.dynamodbTailReads as number)})`,
      `$/browser-hour, API Gateway WebSocket (rejected), ${label}: ${dollars(ws.total)} (messages ${dollars(ws.parts.messages as number)}, connection-minutes ${dollars(ws.parts.connectionMinutes as number)})`,
    ];
  });
