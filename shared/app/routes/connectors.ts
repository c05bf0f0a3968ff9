import * as v from 'valibot';
import {
  CONNECTOR_KINDS,
  CONNECTOR_STATES,
  type ConnectorKind,
  mergeConfig,
  parseConnectorConfig,
  topicAccess,
} from '#shared/domain/connectors/config';
import { STRICT_DESTINATIONS } from '#shared/domain/connectors/destination';
import { canSee } from '#shared/domain/permissions';
import { int } from '#shared/domain/validation';
import { ConnectorService, connectorView } from '#shared/services/connectors/connectors';
import { systemResolver } from '#shared/services/connectors/http-delivery';
import type { AppDeps } from '../create-app';
import { authorize } from '../middleware/auth';
import {
  bodyProblemResponses,
  createRoute,
  json,
  newRouter,
  problem,
  problemResponses,
  validationError,
} from '../router';
import { NameSchema } from '../schemas';

const ConfigObject = () => v.record(v.string(), v.unknown());

const ConnectorSchema = v.pipe(
  v.object({
    name: v.string(),
    kind: v.picklist(CONNECTOR_KINDS),
    config: v.pipe(
      ConfigObject(),
      v.description('The configuration with its defaults; header values (write-only secrets) read "<redacted>".'),
    ),
    state: v.picklist(CONNECTOR_STATES),
    createdAt: int(),
    updatedAt: int(),
    status: v.object({ records: int(), lastError: v.optional(v.string()), lastErrorAt: v.optional(int()) }),
  }),
  v.metadata({ id: 'Connector' }),
);

const CreateConnectorSchema = v.pipe(
  v.strictObject({
    name: NameSchema,
    kind: v.picklist(CONNECTOR_KINDS),
    config: v.pipe(
      ConfigObject(),
      v.description(
        'datagen: {topic, template, recordsPerSecond?, maxRecords?}; http-sink: {topics, url, headers?, ' +
          'batchMaxRecords?, batchMaxWaitMs?, maxRetries?, deadLetterTopic?}; s3-sink: {topics, bucket, prefix?, ' +
          'roleArn?, flushMaxBytes?, flushMaxMs?}',
      ),
    ),
  }),
  v.metadata({ id: 'CreateConnector' }),
);

const UpdateConnectorSchema = v.pipe(
  v.strictObject({
    state: v.optional(v.picklist(['running', 'paused'])),
    config: v.pipe(
      v.optional(ConfigObject()),
      v.description('Fields to change; null removes an optional field; headers are replaced whole.'),
    ),
  }),
  v.check((b) => b.state !== undefined || b.config !== undefined, 'Give state, config or both.'),
  v.metadata({ id: 'UpdateConnector' }),
);

const ConnectorParamSchema = v.object({ name: NameSchema });

/**
 * The connector service of the API, built when the connector routes are first used
 * (they are loaded on first request; see `createApp`). @default policy strict (AWS):
 * public https destinations, s3-sinks through a role
 */
export const createConnectorService = (
  deps: Pick<AppDeps, 'connectors' | 'metadata' | 'connectorPolicy'>,
  clock: () => number,
) =>
  new ConnectorService(deps.connectors, deps.metadata, clock, {
    destinations: STRICT_DESTINATIONS,
    resolve: systemResolver,
    requireRoleArn: true,
    reservedBuckets: [],
    ...deps.connectorPolicy,
  });

const parseConfig = (kind: ConnectorKind, raw: unknown) => {
  const parsed = parseConnectorConfig(kind, raw);
  if (!parsed.ok) throw validationError(parsed.issues);
  return parsed.config;
};

/** A key may set up a connector only over topics it may itself produce to or consume from. */
const authorizeTopics = (c: Parameters<typeof authorize>[0], kind: ConnectorKind, config: Record<string, unknown>) => {
  const { produce, consume } = topicAccess(kind, config);
  for (const topic of produce) authorize(c, `topic:${topic}`, 'produce');
  for (const topic of consume) authorize(c, `topic:${topic}`, 'consume');
};

export const connectorRoutes = ({ connectors }: { connectors: ConnectorService }) => {
  const app = newRouter();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/connectors',
      operationId: 'createConnector',
      summary: 'Create a connector (it starts running)',
      tags: ['Connectors'],
      request: { body: { content: { 'application/json': { schema: CreateConnectorSchema } }, required: true } },
      responses: {
        201: json(ConnectorSchema, 'Created; it starts running'),
        409: problem('`connector_exists`: the tenant has a connector of that name'),
        ...bodyProblemResponses,
        ...problemResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const principal = authorize(c, `connector:${body.name}`, 'manage');
      const config = parseConfig(body.kind, body.config);
      authorizeTopics(c, body.kind, config);
      const created = await connectors.create(principal, { name: body.name, kind: body.kind, config });
      return c.json(connectorView(created), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/connectors',
      operationId: 'listConnectors',
      summary: 'List the tenant’s connectors',
      tags: ['Connectors'],
      responses: {
        200: json(v.object({ connectors: v.array(ConnectorSchema) }), 'The tenant’s connectors'),
        ...problemResponses,
      },
    }),
    async (c) => {
      const { tenantId, permissions } = c.get('principal');
      const visible = (await connectors.list(tenantId)).filter((x) => canSee(permissions, `connector:${x.name}`));
      return c.json({ connectors: visible.map(connectorView) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/connectors/{name}',
      operationId: 'getConnector',
      summary: 'Describe a connector: state, status and configuration (secrets redacted)',
      tags: ['Connectors'],
      request: { params: ConnectorParamSchema },
      responses: { 200: json(ConnectorSchema, 'The connector'), ...problemResponses },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const principal = c.get('principal');
      if (!canSee(principal.permissions, `connector:${name}`)) authorize(c, `connector:${name}`, 'manage');
      return c.json(connectorView(await connectors.get(principal.tenantId, name)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/connectors/{name}',
      operationId: 'updateConnector',
      summary: 'Pause, resume or reconfigure a connector',
      tags: ['Connectors'],
      request: {
        params: ConnectorParamSchema,
        body: { content: { 'application/json': { schema: UpdateConnectorSchema } }, required: true },
      },
      responses: { 200: json(ConnectorSchema, 'Updated'), ...bodyProblemResponses, ...problemResponses },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const principal = authorize(c, `connector:${name}`, 'manage');
      const body = c.req.valid('json');
      const current = await connectors.get(principal.tenantId, name);
      let config: Record<string, unknown> | undefined;
      if (body.config) {
        config = parseConfig(current.kind, mergeConfig(current.config, body.config));
        authorizeTopics(c, current.kind, config);
      }
      const updated = await connectors.update(current, { state: body.state, config });
      return c.json(connectorView(updated), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/connectors/{name}',
      operationId: 'deleteConnector',
      summary: 'Delete a connector (a sink’s consumer group stays)',
      tags: ['Connectors'],
      request: { params: ConnectorParamSchema },
      responses: { 204: { description: 'Deleted; it stops within one worker step' }, ...problemResponses },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const { tenantId } = authorize(c, `connector:${name}`, 'manage');
      await connectors.delete(tenantId, name);
      return c.body(null, 204);
    },
  );

  return app;
};
