/**
 * The OpenAPI 3.1 document of the HTTP API, built from the route definitions the app
 * registers (their valibot schemas validate requests at run time; @valibot/to-json-schema
 * turns them into JSON Schema here). It is generated here, at build time, and checked in
 * as `shared/app/openapi.json`: the running service only reads that file when
 * `/openapi.json` is asked for, so neither the generator nor the document is built when a
 * Lambda instance starts. test/openapi.test.ts fails when the file is not what this
 * module generates.
 *
 *   npm run openapi          (rewrites shared/app/openapi.json)
 */
import { join } from 'node:path';
import { type ConversionConfig, type JsonSchema, toJsonSchema, toJsonSchemaDefs } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { type AppDeps, contractOf, createApp } from '#shared/app/create-app';
import type { RouteConfig } from '#shared/app/router';
import { DEFAULT_LIMITS, FETCH_LIMITS } from '#shared/constants';

/** Where the document is checked in (the app reads it from here when run from source). */
export const OPENAPI_DOCUMENT_PATH = join(import.meta.dirname, '..', 'shared', 'app', 'openapi.json');

type Schema = v.GenericSchema;
type Metadata = { id?: string; openapi?: JsonSchema };

const isSchema = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'schema';

/** The `metadata` actions of a schema's pipe, merged (the schemas' naming and overrides, see shared/app/schemas.ts). */
const metadataOf = (schema: Schema): Metadata => {
  const pipe = (schema as { pipe?: readonly { kind: string; type: string; metadata?: Metadata }[] }).pipe ?? [];
  return Object.assign({}, ...pipe.filter((item) => item.type === 'metadata').map((item) => item.metadata));
};

/** Every schema a schema is made of, itself first (depth first, in declaration order). */
function* schemasIn(schema: Schema, seen = new Set<Schema>()): Generator<Schema> {
  if (seen.has(schema)) return;
  seen.add(schema);
  yield schema;
  const s = schema as unknown as Record<string, unknown>;
  const children = [
    ...Object.values((s.entries as Record<string, unknown>) ?? {}),
    ...((s.options as unknown[]) ?? []),
    ...((s.pipe as unknown[]) ?? []).slice(1),
    s.item,
    s.wrapped,
    s.key,
    s.value,
    s.rest,
  ];
  for (const child of children) if (isSchema(child)) yield* schemasIn(child, seen);
}

/** The schemas of a route: its inputs, and every response's content. */
const routeSchemas = (route: RouteConfig): Schema[] => {
  const { params, query, headers, body } = route.request ?? {};
  const responses = Object.values(route.responses).flatMap((response) =>
    Object.values((response as { content?: Record<string, { schema?: unknown }> }).content ?? {}).map((c) => c.schema),
  );
  return [params, query, headers, body?.content['application/json'].schema, ...responses].filter(isSchema);
};

/** How valibot schemas become the document's JSON Schema, given its named schemas. */
const conversion = (): ConversionConfig => ({
  target: 'draft-2020-12',
  // Refinements and transforms are run-time checks with no JSON Schema counterpart; the
  // messages they give are in the 400 a client gets.
  ignoreActions: ['check', 'raw_check', 'transform', 'trim'],
  overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
  overrideSchema: ({ valibotSchema, jsonSchema }) => {
    const { required, ...rest } = jsonSchema;
    // A loose object says so: a problem may carry more fields than the ones listed.
    if (valibotSchema.type === 'loose_object')
      return { ...rest, ...(required?.length ? { required } : {}), additionalProperties: {} };
    if (required && !required.length) return rest;
    // A nullable scalar as one type list (`["integer", "null"]`) rather than an `anyOf`.
    const [inner, nothing] = jsonSchema.anyOf ?? [];
    if (
      (valibotSchema.type === 'nullable' || valibotSchema.type === 'nullish') &&
      typeof inner === 'object' &&
      typeof inner.type === 'string' &&
      inner.type !== 'object' &&
      inner.type !== 'array' &&
      typeof nothing === 'object' &&
      nothing.type === 'null'
    ) {
      const { anyOf: _, ...outer } = jsonSchema;
      return { ...inner, ...outer, type: [inner.type, 'null'] };
    }
    return undefined;
  },
  overrideAction: ({ valibotAction, jsonSchema }) => {
    if (valibotAction.type === 'metadata') {
      const { id: _id, openapi, ...rest } = jsonSchema as JsonSchema & Metadata;
      return openapi ? { ...openapi, ...(rest.description ? { description: rest.description } : {}) } : rest;
    }
    // Every integer is a safe one; the document says integer, without the ±2^53-1 bounds.
    if (valibotAction.type === 'safe_integer') {
      const { minimum, maximum, ...rest } = jsonSchema;
      return {
        ...rest,
        ...(minimum !== Number.MIN_SAFE_INTEGER ? { minimum } : {}),
        ...(maximum !== Number.MAX_SAFE_INTEGER ? { maximum } : {}),
      };
    }
    return undefined;
  },
});

/** A schema as the document writes it: a `$ref` for a named one, its JSON Schema otherwise. */
const jsonSchemaOf = (schema: Schema, definitions: Record<string, Schema>): JsonSchema => {
  const { $schema: _, $defs: __, ...rest } = toJsonSchema(schema, { ...conversion(), definitions });
  return rest;
};

const isOptional = (schema: Schema) => ['optional', 'nullish', 'exact_optional'].includes(schema.type);

/** The parameters of one part of a request (an object schema: one parameter per entry). */
const parameters = (
  schema: Schema | undefined,
  where: 'path' | 'query' | 'header',
  definitions: Record<string, Schema>,
) =>
  Object.entries((schema as { entries?: Record<string, Schema> } | undefined)?.entries ?? {}).map(([name, entry]) => {
    const json = jsonSchemaOf(entry, definitions);
    return {
      name,
      in: where,
      required: where === 'path' || !isOptional(entry),
      ...(json.description ? { description: json.description } : {}),
      schema: json,
    };
  });

/** Content of a request or response: each media type's schema converted, the rest as written. */
const content = (media: Record<string, { schema?: unknown }>, definitions: Record<string, Schema>) =>
  Object.fromEntries(
    Object.entries(media).map(([type, { schema, ...rest }]) => [
      type,
      { ...rest, schema: isSchema(schema) ? jsonSchemaOf(schema, definitions) : schema },
    ]),
  );

/** One operation of the document. */
const operation = (route: RouteConfig, definitions: Record<string, Schema>) => {
  const { params, query, headers, body } = route.request ?? {};
  const parametersOf = [
    ...parameters(params, 'path', definitions),
    ...parameters(query, 'query', definitions),
    ...parameters(headers, 'header', definitions),
  ];
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: route.tags,
    ...(route.security ? { security: route.security } : {}),
    ...(parametersOf.length ? { parameters: parametersOf } : {}),
    ...(body
      ? {
          requestBody: {
            ...(body.description ? { description: body.description } : {}),
            required: body.required,
            content: content(body.content, definitions),
          },
        }
      : {}),
    responses: Object.fromEntries(
      Object.entries(route.responses).map(([status, response]) => {
        const { content: media, ...rest } = response as { content?: Record<string, { schema?: unknown }> };
        return [status, { ...rest, ...(media ? { content: content(media, definitions) } : {}) }];
      }),
    ),
  };
};

/** The document's paths: each route under its OpenAPI path, its methods in registration order. */
const pathsOf = (routes: RouteConfig[], definitions: Record<string, Schema>) => {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.path] = { ...paths[route.path], [route.method]: operation(route, definitions) };
  }
  return paths;
};

/** The named schemas (a `metadata` `id`) the routes use, by name; two schemas of one name are refused. */
const namedSchemas = (routes: RouteConfig[]) => {
  const named: Record<string, Schema> = {};
  const seen = new Set<Schema>();
  for (const schema of routes.flatMap(routeSchemas)) {
    for (const part of schemasIn(schema, seen)) {
      const { id } = metadataOf(part);
      if (id === undefined) continue;
      if (named[id] && named[id] !== part) throw new Error(`Two schemas are named ${id}`);
      named[id] = part;
    }
  }
  return named;
};

/** The document, without `servers` (the service adds its own origin to each answer). */
export const buildOpenApiDocument = async () => {
  // Building the routes touches no storage, so the app gets no ports.
  const app = createApp({ operatorKeyHash: undefined, log: () => {} } as unknown as AppDeps);
  const routes = await contractOf(app);
  const definitions = namedSchemas(routes);
  const securitySchemes = {
    apiKey: {
      type: 'http',
      scheme: 'bearer',
      description:
        "A tenant's API key (`rnl_<keyId>_<secret>`): `Authorization: Bearer <key>`. The tenant comes from the key.",
    },
    accessToken: {
      type: 'apiKey',
      in: 'query',
      name: 'access_token',
      description:
        'A browser token (`POST /v1/tokens`), on stream requests only (`Accept: text/event-stream`), for ' +
        'EventSource, which cannot send headers. Read-only and short-lived; never logged.',
    },
    operatorKey: {
      type: 'http',
      scheme: 'bearer',
      description: 'The operator key, for `/admin/v1` only: `Authorization: Bearer <operator key>`.',
    },
  };
  const limits = DEFAULT_LIMITS;
  return {
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
    components: { schemas: toJsonSchemaDefs(definitions, conversion()), securitySchemes },
    paths: pathsOf(routes, definitions),
  };
};

/** The file's text: stable (2-space JSON, trailing newline), so a stale file shows as a diff. */
export const openApiDocumentText = async () => `${JSON.stringify(await buildOpenApiDocument(), null, 2)}\n`;
