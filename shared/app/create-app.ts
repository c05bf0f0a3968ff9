import { readFile } from 'node:fs/promises';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { DEFAULT_LIMITS, DEFAULT_STREAM_TIMING, type Limits, type StreamTiming } from '#shared/constants';
import { RunnelError } from '#shared/domain/errors';
import { loadOnce } from '#shared/domain/load-once';
import type { MetricsSink } from '#shared/observability/telemetry';
import type { ConnectorStore } from '#shared/ports/connector-store';
import type { GroupStore } from '#shared/ports/group-store';
import type { IdempotencyStore } from '#shared/ports/idempotency-store';
import type { LogIndex } from '#shared/ports/log-index';
import type { MetadataStore } from '#shared/ports/metadata-store';
import type { SegmentStore } from '#shared/ports/segment-store';
import type { UsageStore } from '#shared/ports/usage-store';
import { AppendNotifier } from '#shared/services/append-notifier';
import { Authenticator, type OperatorKeyHash } from '#shared/services/auth';
import { FailedAuthLimiter, type FailedAuthLimiterOptions } from '#shared/services/auth-throttle';
import type { ConnectorPolicy } from '#shared/services/connectors/connectors';
import type { ExactlyOnceOptions, ExactlyOnceProducer } from '#shared/services/exactly-once';
import { FetchService } from '#shared/services/fetch';
import type { GroupService } from '#shared/services/groups';
import { LongPoll } from '#shared/services/long-poll';
import { PartitionLog } from '#shared/services/partition-log';
import { PartitionReader } from '#shared/services/partition-reader';
import { ProduceService, type SegmentHedge } from '#shared/services/produce';
import { QuotaService } from '#shared/services/quotas';
import type { RecordStreams } from '#shared/services/record-stream';
import { CachingSegmentStore } from '#shared/services/segment-cache';
import { TenantService } from '#shared/services/tenants';
import { TopicService } from '#shared/services/topics';
import { WaiterQuota } from '#shared/services/waiter-quota';
import type { ConsoleOptions, consoleHandler } from './console';
import type { AppEnv } from './env';
import { LAZY_ROUTES, type LazyRoutes } from './lazy-routes';
import { accessLog } from './middleware/access-log';
import { type ClientAddress, operatorAuth, tenantAuth } from './middleware/auth';
import { browserCors } from './middleware/cors';
import { requestId } from './middleware/request-id';
import { securityHeaders } from './middleware/security-headers';
import { noStreams, streamsOnly } from './middleware/streams-only';
import { utf8JsonBody } from './middleware/utf8-body';
import { waitingRequests } from './middleware/waiting-requests';
import { problemResponse, toRunnelError } from './problem';
import { honoPath, type RouteConfig, type Router, runRoute } from './router';
import { recordRoutes } from './routes/records';
import type { StreamRoutesDeps } from './routes/streams';
import { topicRoutes } from './routes/topics';
import type { StreamFaults } from './streaming/sse';

export type LogSink = (entry: Record<string, unknown>) => void;

export interface AppDeps {
  metadata: MetadataStore;
  index: LogIndex;
  segments: SegmentStore;
  idempotency: IdempotencyStore;
  /** Timing of exactly-once produce, and protocol hooks for crash tests. */
  exactlyOnce?: ExactlyOnceOptions;
  /**
   * The offset protocol's bounds (docs/offset-protocol.md): G, after which readers mark a
   * hole, and W, after which a writer gives its reservation up. @default GAP_BOUND_MS, RESERVATION_BOUND_MS
   */
  gaps?: { gapBoundMs: number; reservationBoundMs: number };
  /** Per-tenant rate windows and stored bytes (quotas). */
  usage: UsageStore;
  groups: GroupStore;
  connectors: ConnectorStore;
  /** Where connectors may reach. @default strict (AWS): public https destinations, s3-sinks through a role */
  connectorPolicy?: Partial<ConnectorPolicy>;
  /**
   * SHA-256 (hex) of the operator key, or a function that loads it on the first operator
   * request; without it the operator API refuses every call.
   */
  operatorKeyHash: OperatorKeyHash;
  /** @default Date.now */
  clock?: () => number;
  /** @default DEFAULT_LIMITS */
  limits?: Partial<Limits>;
  /** Structured log lines (never secrets). @default JSON to stderr */
  log?: LogSink;
  /** Origins browsers may call the API from (CORS); none by default. From RUNNEL_CORS_ORIGINS. */
  corsOrigins?: readonly string[];
  /** Bytes of immutable segment data kept in memory; 0 disables the cache. @default 0 */
  segmentCacheBytes?: number;
  /** Request metrics (CloudWatch EMF in Lambda). @default none */
  metrics?: MetricsSink;
  /** The built web console, served at `/console`. @default not served */
  console?: ConsoleOptions;
  /** The caller's address, for throttling failed authentication. @default none (no throttle) */
  clientAddress?: ClientAddress;
  /** Failed-authentication throttle per client address. @default FailedAuthLimiter's defaults */
  failedAuth?: FailedAuthLimiterOptions;
  /** Server-Sent Event streams: timing (@default DEFAULT_STREAM_TIMING), and a fault hook for tests. */
  streams?: Partial<StreamTiming> & { faults?: StreamFaults };
  /**
   * Serve only stream requests (the Lambda behind the streaming Function URL); everything
   * else is answered 404 and belongs to the main API. @default false
   */
  streamsOnly?: boolean;
  /** When a segment PUT gets its hedged twin. @default after SEGMENT_PUT_HEDGE_AFTER_MS */
  segmentHedge?: SegmentHedge;
  /** Long polls and streams of one tenant waiting at once per instance. @default DEFAULT_WAITERS_PER_TENANT */
  waitersPerTenant?: number;
  /** Refuse stream requests (406): the host buffers responses and streams are served elsewhere. @default false */
  streamsElsewhere?: boolean;
  /**
   * The OpenAPI document served at `/openapi.json`, generated from the routes by
   * `npm run openapi` (test/openapi.test.ts fails when it is stale). Read on the first
   * request for it, never at start. @default `openapi.json` beside this module (in a
   * Lambda bundle: beside the bundle, where the construct copies it)
   */
  openApiDocument?: URL;
}

const defaultLog: LogSink = (entry) => console.error(JSON.stringify(entry));

/**
 * Builds the services from the ports: what the app uses, and what tests and tools may
 * reach directly. Consumer groups and record streams are built on first use (their code is
 * imported then, off the produce and fetch path): `await services.groups()`.
 */
export const createServices = (deps: AppDeps) => {
  const clock = deps.clock ?? Date.now;
  const limits: Limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const notifier = new AppendNotifier();
  const segments = deps.segmentCacheBytes
    ? new CachingSegmentStore(deps.segments, deps.segmentCacheBytes)
    : deps.segments;
  const log = new PartitionLog({
    index: deps.index,
    clock,
    notifier,
    ...(deps.gaps ? { reservationBoundMs: deps.gaps.reservationBoundMs } : {}),
  });
  const reader = new PartitionReader({
    index: deps.index,
    segments,
    clock,
    ...(deps.gaps ? { gapBoundMs: deps.gaps.gapBoundMs } : {}),
  });
  const waiterQuota = new WaiterQuota(deps.waitersPerTenant);
  const longPoll = new LongPoll({ log, notifier, clock });
  const fetcher = new FetchService({ log, reader, longPoll, clock });
  const authenticator = new Authenticator(deps.metadata, deps.operatorKeyHash, clock);
  const failedAuth = new FailedAuthLimiter(clock, deps.failedAuth);
  const producer = new ProduceService(log, segments, clock, deps.segmentHedge);
  const exactlyOnce = loadOnce(async (): Promise<ExactlyOnceProducer> => {
    const { ExactlyOnceProducer } = await import('./first-use/exactly-once');
    return new ExactlyOnceProducer(producer, log, deps.idempotency, clock, deps.exactlyOnce);
  });
  return {
    clock,
    limits,
    notifier,
    waiterQuota,
    longPoll,
    log,
    reader,
    authenticator,
    failedAuth,
    tenants: new TenantService(deps.metadata, clock, authenticator),
    quotas: new QuotaService(deps.metadata, deps.usage, clock),
    topics: new TopicService(deps.metadata, log, clock),
    producer,
    /** Idempotent produce (Idempotency-Key, producerId + sequence), built on its first request: a plain produce never loads it. */
    exactlyOnce: {
      produce: async (...args: Parameters<ExactlyOnceProducer['produce']>) => (await exactlyOnce()).produce(...args),
    },
    fetcher,
    /** Record streams (Server-Sent Events), built on the first stream. */
    streams: loadOnce(async (): Promise<RecordStreams> => {
      const { RecordStreams } = await import('./first-use/record-stream');
      return new RecordStreams(fetcher);
    }),
    /** The consumer-group coordinator, built on the first group request. */
    groups: loadOnce(async (): Promise<GroupService> => {
      const { GroupService } = await import('./first-use/group-service');
      return new GroupService({ store: deps.groups, metadata: deps.metadata, log, fetcher, longPoll, clock });
    }),
  };
};

export type Services = ReturnType<typeof createServices>;

/** The routes of each app, with their full paths, in the order they are mounted, for the OpenAPI document. */
const contracts = new WeakMap<Hono<AppEnv>, (() => Promise<RouteConfig[]>)[]>();

/**
 * Every route of an app made by {@link createApp}, paths from the root
 * (`/v1/topics/{topic}`). Loads the routes that are otherwise loaded on their first
 * request ({@link LAZY_ROUTES}).
 */
export const contractOf = async (app: Hono<AppEnv>): Promise<RouteConfig[]> =>
  (await Promise.all((contracts.get(app) ?? []).map((part) => part()))).flat();

/** The generated document, read once per instance on the first request for it. */
const documents = new Map<string, Promise<Record<string, unknown>>>();
const readDocument = (url: URL) => {
  let document = documents.get(url.href);
  if (!document) {
    document = readFile(url, 'utf8').then((text) => JSON.parse(text) as Record<string, unknown>);
    // A failed read is not cached: the next request tries again.
    document.catch(() => documents.delete(url.href));
    documents.set(url.href, document);
  }
  return document;
};
/** Path patterns of every route, for telling 405 from 404. */
const routeMatchers = (app: Hono<AppEnv>) => {
  const byPattern = new Map<string, { re: RegExp; methods: Set<string> }>();
  for (const route of app.routes) {
    if (route.method === 'ALL') continue;
    let entry = byPattern.get(route.path);
    if (!entry) {
      const re = new RegExp(`^${route.path.replace(/:[^/]+/g, '[^/]+')}$`);
      entry = { re, methods: new Set() };
      byPattern.set(route.path, entry);
    }
    entry.methods.add(route.method);
  }
  return [...byPattern.values()];
};

/**
 * The whole HTTP API as one Web-standard fetch handler. Lambda (`functions/api.ts`)
 * and the local server (`local/main.ts`) host the same app.
 */
export const createApp = (deps: AppDeps, services: Services = createServices(deps)) => {
  const log = deps.log ?? defaultLog;
  const app = new Hono<AppEnv>();
  const contract: (() => Promise<RouteConfig[]>)[] = [];
  contracts.set(app, contract);
  const withPrefix = (prefix: string, router: Router) =>
    router.definitions.map((route) => ({ ...route, path: `${prefix}${route.path}` }));
  const mount = (prefix: string, router: Router) => {
    app.route(prefix, router);
    contract.push(async () => withPrefix(prefix, router));
  };
  /**
   * Registers routes whose code is imported on their first request (rarely used routes,
   * kept off the data plane's cold start): each method and path answers at once for
   * routing, 404 and 405; the first request loads the router and runs that route's
   * validators and handler in the same request, behind the same middleware.
   */
  const mountLazy = (prefix: string, routes: LazyRoutes, load: () => Promise<Router>) => {
    // Loaded once; a failed load is not kept, so the next request tries again.
    const router = loadOnce(load);
    for (const [method, path] of routes) {
      const key = `${method.toUpperCase()} ${path}`;
      app.on([method.toUpperCase()], [`${prefix}${honoPath(path)}`], async (c) => {
        const chain = (await router()).chains.get(key);
        if (!chain) throw new Error(`lazy route ${key} is not registered by its router`);
        return runRoute(chain, c);
      });
    }
    contract.push(async () => withPrefix(prefix, await router()));
  };
  const auth = { ...services, clientAddress: deps.clientAddress ?? (() => undefined) };

  app.use(requestId());
  app.use(securityHeaders());
  app.use(accessLog({ log, metrics: deps.metrics }));
  if (deps.corsOrigins && deps.corsOrigins.length > 0) {
    // Before auth, so preflights (which carry no key) are answered.
    app.use(browserCors({ origins: deps.corsOrigins }));
  }
  app.use(
    bodyLimit({
      maxSize: services.limits.maxRequestBytes,
      onError: () => {
        throw new RunnelError(
          'request_too_large',
          `The request body is larger than ${services.limits.maxRequestBytes} bytes.`,
        );
      },
    }),
  );

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  if (deps.console) {
    // Like its files, the console's serving code is loaded on its first request.
    const options = deps.console;
    let handler: Promise<ReturnType<typeof consoleHandler>> | undefined;
    const serve = async (c: Context<AppEnv>) => {
      handler ??= import('./first-use/console').then((m) => m.consoleHandler(options));
      handler.catch(() => {
        handler = undefined;
      });
      return (await handler)(c);
    };
    app.get('/console', serve);
    app.get('/console/*', serve);
  }

  if (deps.streamsOnly) app.use(streamsOnly());
  if (deps.streamsElsewhere) app.use(noStreams());
  // After authentication, so a body is read only for a known caller.
  app.use('/v1/*', tenantAuth(auth), utf8JsonBody(), waitingRequests(services.waiterQuota));
  // Streams' code (routes, SSE framing, the record stream service) is loaded on the first stream.
  const streaming = loadOnce(async () => {
    const [routes, streams] = await Promise.all([import('./first-use/stream-routes'), services.streams()]);
    const stream: StreamRoutesDeps = {
      ...services,
      streams,
      timing: { ...DEFAULT_STREAM_TIMING, ...deps.streams },
      faults: deps.streams?.faults,
      log,
    };
    return { routes, stream };
  });
  mount('/v1', topicRoutes(services));
  mountLazy('/v1', LAZY_ROUTES.topicAdmin, async () =>
    (await import('./first-use/topic-admin-routes')).topicAdminRoutes(services),
  );
  mount(
    '/v1',
    recordRoutes({
      ...services,
      partitionStream: async (c, principal, target, query) => {
        const { routes, stream } = await streaming();
        return routes.partitionStream(c, stream, principal, target, query);
      },
    }),
  );
  mountLazy('/v1', LAZY_ROUTES.streams, async () => {
    const { routes, stream } = await streaming();
    return routes.streamRoutes(stream);
  });
  mountLazy('/v1', LAZY_ROUTES.keys, async () => {
    const [{ keyRoutes }, { KeyService }] = await Promise.all([
      import('./first-use/key-routes'),
      import('./first-use/key-service'),
    ]);
    return keyRoutes({ keys: new KeyService(deps.metadata, services.authenticator, services.clock) });
  });
  mountLazy('/v1', LAZY_ROUTES.tokens, async () => {
    const [{ tokenRoutes }, { TokenService }] = await Promise.all([
      import('./first-use/token-routes'),
      import('./first-use/token-service'),
    ]);
    return tokenRoutes({ tokens: new TokenService(deps.metadata, services.clock) });
  });
  mountLazy('/v1', LAZY_ROUTES.groups, async () => {
    const [{ groupRoutes }, groups] = await Promise.all([import('./first-use/group-routes'), services.groups()]);
    return groupRoutes({ ...services, groups });
  });
  mountLazy('/v1', LAZY_ROUTES.connectors, async () => {
    const { connectorRoutes, createConnectorService } = await import('./first-use/connector-routes');
    return connectorRoutes({ connectors: createConnectorService(deps, services.clock) });
  });

  app.use('/admin/v1/*', operatorAuth(auth), utf8JsonBody());
  mountLazy('/admin/v1', LAZY_ROUTES.admin, async () =>
    (await import('./first-use/admin-routes')).adminRoutes(services),
  );

  // Generated at build time from the same route definitions (scripts/openapi.ts), so
  // starting the app builds no document and loads no OpenAPI generator.
  const openApiDocument = deps.openApiDocument ?? new URL('./openapi.json', import.meta.url);
  app.get('/openapi.json', async (c) => {
    const document = await readDocument(openApiDocument);
    return c.json({ ...document, servers: [{ url: new URL(c.req.url).origin }] });
  });

  const matchers = routeMatchers(app);
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const allowed = new Set<string>();
    for (const m of matchers) if (m.re.test(path)) for (const method of m.methods) allowed.add(method);
    if (allowed.size > 0) {
      if (allowed.has('GET')) allowed.add('HEAD');
      const allow = [...allowed].sort();
      throw new RunnelError(
        'method_not_allowed',
        `${c.req.method} is not allowed here; use ${allow.join(', ')}.`,
        {},
        {
          allow,
        },
      );
    }
    throw new RunnelError('not_found', `No route for ${c.req.method} ${path}.`);
  });

  app.onError((error, c) => {
    const runnelError = toRunnelError(error);
    c.set('errorCode', runnelError.code);
    if (runnelError.status >= 500) {
      const cause = runnelError.cause ?? error;
      log({
        level: 'error',
        msg: 'request failed',
        requestId: c.get('requestId'),
        method: c.req.method,
        path: new URL(c.req.url).pathname,
        code: runnelError.code,
        error:
          cause instanceof Error ? { name: cause.name, message: cause.message, stack: cause.stack } : String(cause),
      });
    }
    return problemResponse(c, runnelError);
  });

  return app;
};

export type App = ReturnType<typeof createApp>;
