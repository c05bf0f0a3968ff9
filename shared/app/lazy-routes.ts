import type { RouteConfig } from './router';

/** Methods and paths (relative to where they are mounted) of routes loaded on first use. */
export type LazyRoutes = readonly (readonly [RouteConfig['method'], string])[];

/**
 * The routes whose code is imported on their first request rather than when an instance
 * starts (see `createApp`): topic administration (create, list, change, delete; describe
 * stays at start), record streams (the partition stream of the fetch route is
 * loaded with them), the tenant's keys, browser tokens, consumer groups and connectors, and
 * the operator API. Produce, fetch and describing a topic never wait for them. Only their methods
 * and paths are here, so that routing, 404 and 405 work before they are loaded; their
 * schemas and handlers stay in `routes/`, and test/openapi.test.ts fails when this list
 * and the routers' own definitions differ.
 */
export const LAZY_ROUTES = {
  topicAdmin: [
    ['post', '/topics'],
    ['get', '/topics'],
    ['patch', '/topics/{topic}'],
    ['delete', '/topics/{topic}'],
  ],
  streams: [['get', '/topics/{topic}/records']],
  keys: [
    ['post', '/keys'],
    ['get', '/keys'],
    ['delete', '/keys/{keyId}'],
  ],
  tokens: [['post', '/tokens']],
  groups: [
    ['post', '/groups/{group}/members'],
    ['post', '/groups/{group}/members/{memberId}/heartbeat'],
    ['delete', '/groups/{group}/members/{memberId}'],
    ['post', '/groups/{group}/offsets'],
    ['get', '/groups/{group}/offsets'],
    ['get', '/groups/{group}'],
    ['get', '/groups'],
    ['get', '/groups/{group}/members/{memberId}/records'],
  ],
  connectors: [
    ['post', '/connectors'],
    ['get', '/connectors'],
    ['get', '/connectors/{name}'],
    ['patch', '/connectors/{name}'],
    ['delete', '/connectors/{name}'],
  ],
  admin: [
    ['post', '/tenants'],
    ['get', '/tenants'],
    ['get', '/tenants/{id}'],
    ['patch', '/tenants/{id}'],
    ['delete', '/tenants/{id}'],
  ],
} as const satisfies Record<string, LazyRoutes>;
