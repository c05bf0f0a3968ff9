import type { MiddlewareHandler } from 'hono';
import type { LogSink, MetricDatum, MetricsSink } from '#shared/observability/telemetry';
import type { AppEnv } from '../env';
import { toRunnelError } from '../problem';

/** Routes with their own latency metric, by `METHOD routePath`. */
const LATENCY_METRIC: Record<string, MetricDatum['name']> = {
  'POST /v1/topics/:topic/records': 'ProduceLatency',
  'GET /v1/topics/:topic/partitions/:partition/records': 'FetchLatency',
};

const contentLength = (headers: Headers): number | undefined => {
  const value = Number(headers.get('Content-Length') ?? Number.NaN);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
};

/** An event stream never ends on its own: reading it to size it would hold it (and its memory) forever. */
const isStream = (res: Response) => (res.headers.get('Content-Type') ?? '').startsWith('text/event-stream');

/**
 * Whole bodies (JSON, problem details) are measured by reading a copy in memory; an event
 * stream passes through unread and its size is unknown (logged when it starts).
 */
const bodySize = async (res: Response): Promise<number | undefined> => {
  if (isStream(res)) return undefined;
  return res.body ? (await res.clone().arrayBuffer()).byteLength : 0;
};

/**
 * One structured line per request: method, path (no query string), route, status,
 * latency, request id, tenant and topic; never a header, so never the Authorization key,
 * and never the query string, so never a browser token (`?access_token=`). A stream is
 * logged when its response starts: its latency is the time to the first byte.
 * With a metrics sink it also publishes request counts, latency and bytes per request.
 * Register it after `requestId()` and before authentication, so refused requests are
 * logged too.
 */
export const accessLog =
  ({
    log,
    metrics,
    now = () => performance.now(),
  }: {
    log: LogSink;
    metrics?: MetricsSink | undefined;
    /** @default performance.now */
    now?: () => number;
  }): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const start = now();
    let failure: unknown;
    try {
      await next();
    } catch (error) {
      // Errors hono does not turn into a response below us (unknown routes) pass through here.
      failure = error;
    }
    const latencyMs = Math.round((now() - start) * 10) / 10;
    const status = failure === undefined ? c.res.status : toRunnelError(failure).status;
    const method = c.req.method;
    const path = new URL(c.req.url).pathname;
    // A pattern ending in `*` belongs to a middleware: no route matched.
    const route = c.req.routePath && !c.req.routePath.endsWith('*') ? c.req.routePath : undefined;
    const tenantId = c.get('principal')?.tenantId;
    const keyId = c.get('principal')?.keyId;
    const topic = route?.includes(':topic') ? c.req.param('topic') : undefined;
    const requestId = c.get('requestId');
    // API Gateway passes the client's Content-Length; without one the size is unknown (not read twice).
    const bytesIn = contentLength(c.req.raw.headers);
    const bytesOut = failure === undefined ? (contentLength(c.res.headers) ?? (await bodySize(c.res))) : undefined;

    log({
      level: status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info',
      msg: 'request',
      requestId,
      method,
      path,
      route,
      status,
      latencyMs,
      tenantId,
      keyId,
      topic,
      code: c.get('errorCode'),
      bytesIn,
      bytesOut,
    });

    if (metrics) {
      const data: MetricDatum[] = [
        { name: 'Requests', unit: 'Count', value: 1 },
        { name: 'ClientErrors', unit: 'Count', value: status >= 400 && status < 500 ? 1 : 0 },
        { name: 'ServerErrors', unit: 'Count', value: status >= 500 ? 1 : 0 },
        { name: 'Throttled', unit: 'Count', value: status === 429 ? 1 : 0 },
        { name: 'RequestLatency', unit: 'Milliseconds', value: latencyMs },
      ];
      if (bytesIn !== undefined) data.push({ name: 'BytesIn', unit: 'Bytes', value: bytesIn });
      if (bytesOut !== undefined) data.push({ name: 'BytesOut', unit: 'Bytes', value: bytesOut });
      const latencyMetric = route && status < 400 ? LATENCY_METRIC[`${method} ${route}`] : undefined;
      if (latencyMetric) data.push({ name: latencyMetric, unit: 'Milliseconds', value: latencyMs });
      metrics.publish(data, { route: route ? `${method} ${route}` : undefined, status, tenantId, topic, requestId });
    }

    if (failure !== undefined) throw failure;
  };
