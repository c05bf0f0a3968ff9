/**
 * The one CORS policy for browser clients, applied by the app (`npm start`, and any host
 * that forwards preflights) and by API Gateway's CORS configuration in the CDK stack, so
 * both answer alike. Header names are case-insensitive.
 */
export const CORS_POLICY = {
  allowMethods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
  /** `Last-Event-ID`: an EventSource that reconnects sends it (SSE resumption). */
  allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id', 'Last-Event-ID'],
  /** Readable by scripts: throttling advice, request ids, a created resource, a 405's methods. */
  exposeHeaders: ['Retry-After', 'X-Request-Id', 'Location', 'Allow'],
  maxAgeSeconds: 600,
} as const;
