import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { CORS_POLICY } from '../cors-policy';
import type { AppEnv } from '../env';

/** `RUNNEL_CORS_ORIGINS`: comma-separated origins, e.g. `https://console.example.com,http://localhost:5173`. */
export const parseCorsOrigins = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o.length > 0);

/**
 * CORS for browser clients from the listed origins only; other origins get no
 * `Access-Control-Allow-Origin`, so browsers refuse them. Keys travel in `Authorization`,
 * never in cookies, so credentials mode is off.
 */
export const browserCors = ({ origins }: { origins: readonly string[] }): MiddlewareHandler<AppEnv> =>
  cors({
    origin: [...origins],
    allowMethods: [...CORS_POLICY.allowMethods],
    allowHeaders: [...CORS_POLICY.allowHeaders],
    exposeHeaders: [...CORS_POLICY.exposeHeaders],
    maxAge: CORS_POLICY.maxAgeSeconds,
  });
