/**
 * The OpenAPI 3.1 document of the HTTP API, built from the route definitions the app
 * registers (their zod schemas validate requests at run time). It is generated here, at
 * build time, and checked in as `shared/app/openapi.json`: the running service only
 * reads that file when `/openapi.json` is asked for, so neither the generator nor the
 * document is built when a Lambda instance starts. test/openapi.test.ts fails when the
 * file is not what this module generates.
 *
 *   npm run openapi          (rewrites shared/app/openapi.json)
 */
import { join } from 'node:path';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { type AppDeps, contractOf, createApp } from '#shared/app/create-app';
import { DEFAULT_LIMITS, FETCH_LIMITS } from '#shared/constants';

/** Where the document is checked in (the app reads it from here when run from source). */
export const OPENAPI_DOCUMENT_PATH = join(import.meta.dirname, '..', 'shared', 'app', 'openapi.json');

/** The document, without `servers` (the service adds its own origin to each answer). */
export const buildOpenApiDocument = async () => {
  // Building the routes touches no storage, so the app gets no ports.
  const app = createApp({ operatorKeyHash: undefined, log: () => {} } as unknown as AppDeps);
  const registry = new OpenAPIRegistry();
  for (const route of await contractOf(app))
    registry.registerPath(route as Parameters<typeof registry.registerPath>[0]);
  registry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description:
      "A tenant's API key (`rnl_<keyId>_<secret>`): `Authorization: Bearer <key>`. The tenant comes from the key.",
  });
  registry.registerComponent('securitySchemes', 'accessToken', {
    type: 'apiKey',
    in: 'query',
    name: 'access_token',
    description:
      'A browser token (`POST /v1/tokens`), on stream requests only (`Accept: text/event-stream`), for ' +
      'EventSource, which cannot send headers. Read-only and short-lived; never logged.',
  });
  registry.registerComponent('securitySchemes', 'operatorKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'The operator key, for `/admin/v1` only: `Authorization: Bearer <operator key>`.',
  });
  const limits = DEFAULT_LIMITS;
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Runnel API',
      version: '1',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      description: [
        "Kafka's model over HTTPS: topics, partitions, keyed records, offsets, consumer groups.",
        'Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`.',
        `Request limits: a body of at most ${limits.maxRequestBytes} bytes, at most ${limits.maxRecordsPerProduce} records per produce, a record (key + value + headers, decoded) of at most ${limits.maxRecordBytes} bytes, at most ${limits.maxPartitionsPerTopic} partitions per topic; a fetch returns at most ${FETCH_LIMITS.maxRecords} records or ${FETCH_LIMITS.maxBytes} bytes and waits at most ${FETCH_LIMITS.waitMs} ms.`,
        'The tenant API (`/v1`) takes a tenant API key; the operator API (`/admin/v1`) takes the operator key.',
      ].join('\n\n'),
    },
    security: [{ apiKey: [] }],
    tags: [
      { name: 'Topics', description: 'Create, describe, change and delete topics' },
      { name: 'Records', description: 'Produce, fetch and follow records (Server-Sent Events)' },
      { name: 'Consumer groups', description: 'Membership, group fetch, committed offsets and lag' },
      { name: 'Keys', description: "A tenant's API keys and their permissions, and read-only browser tokens" },
      { name: 'Connectors', description: 'Managed sources and sinks: datagen, HTTP and S3 (docs/connectors.md)' },
      { name: 'Tenants', description: 'The operator API: tenants and their quotas (operator key only)' },
    ],
  });
};

/** The file's text: stable (2-space JSON, trailing newline), so a stale file shows as a diff. */
export const openApiDocumentText = async () => `${JSON.stringify(await buildOpenApiDocument(), null, 2)}\n`;
