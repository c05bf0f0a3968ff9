import * as v from 'valibot';
import type { Limits } from '#shared/constants';
import { invalidRequest } from '#shared/domain/errors';
import { canSee } from '#shared/domain/permissions';
import { int } from '#shared/domain/validation';
import { defaultRetentionMs, type QuotaService } from '#shared/services/quotas';
import type { TopicService } from '#shared/services/topics';
import { authorize } from '../middleware/auth';
import { bodyProblemResponses, createRoute, json, newRouter, problem, problemResponses } from '../router';
import { NameSchema, RetentionSchema, TopicParamSchema, TopicSchema } from '../schemas';
import { topicView } from './topics';

export const CreateTopicSchema = v.pipe(
  v.strictObject({
    name: NameSchema,
    partitions: v.pipe(int(), v.minValue(1)),
    retentionMs: v.optional(RetentionSchema),
  }),
  v.metadata({ id: 'CreateTopic' }),
);

export const UpdateTopicSchema = v.pipe(
  v.strictObject({
    partitions: v.optional(v.pipe(int(), v.minValue(1))),
    retentionMs: v.optional(RetentionSchema),
  }),
  v.metadata({ id: 'UpdateTopic' }),
);

/** A bad parameter (400) is refused before a quota (403) is looked at. */
const checkPartitionsPerTopic = (partitions: number, limits: Limits) => {
  if (partitions > limits.maxPartitionsPerTopic) {
    throw invalidRequest(`A topic has at most ${limits.maxPartitionsPerTopic} partitions.`);
  }
};

/** Creating, listing, changing and deleting topics: loaded on their first request (lazy-routes.ts). */
export const topicAdminRoutes = ({
  topics,
  limits,
  quotas,
}: {
  topics: TopicService;
  limits: Limits;
  quotas: QuotaService;
}) => {
  const app = newRouter();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/topics',
      operationId: 'createTopic',
      summary: 'Create a topic',
      tags: ['Topics'],
      request: { body: { content: { 'application/json': { schema: CreateTopicSchema } }, required: true } },
      responses: {
        201: json(TopicSchema, 'Created'),
        409: problem('`topic_exists`'),
        ...bodyProblemResponses,
        ...problemResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const principal = authorize(c, `topic:${body.name}`, 'manage');
      checkPartitionsPerTopic(body.partitions, limits);
      await quotas.checkTopicCreate(principal, body);
      const retentionMs = body.retentionMs ?? defaultRetentionMs(principal.quotas);
      const topic = await topics.create(principal.tenantId, { ...body, retentionMs }, limits);
      return c.json(topicView(topic), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/topics',
      operationId: 'listTopics',
      summary: 'List the tenant’s topics',
      tags: ['Topics'],
      responses: { 200: json(v.object({ topics: v.array(TopicSchema) }), 'The tenant’s topics'), ...problemResponses },
    }),
    async (c) => {
      const { tenantId, permissions } = c.get('principal');
      const all = await topics.list(tenantId);
      // A key sees only the topics it may do something with.
      const visible = all.filter((t) => canSee(permissions, `topic:${t.name}`));
      return c.json({ topics: visible.map(topicView).sort((a, b) => a.name.localeCompare(b.name)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/topics/{topic}',
      operationId: 'updateTopic',
      summary: 'Change a topic’s retention or add partitions',
      tags: ['Topics'],
      request: {
        params: TopicParamSchema,
        body: { content: { 'application/json': { schema: UpdateTopicSchema } }, required: true },
      },
      responses: {
        200: json(TopicSchema, 'Updated'),
        409: problem('`conflict`: the topic was changed concurrently; read it and try again'),
        ...bodyProblemResponses,
        ...problemResponses,
      },
    }),
    async (c) => {
      const { topic: name } = c.req.valid('param');
      const principal = authorize(c, `topic:${name}`, 'manage');
      const change = c.req.valid('json');
      if (change.partitions !== undefined) checkPartitionsPerTopic(change.partitions, limits);
      await quotas.checkTopicUpdate(principal, name, change);
      const topic = await topics.update(principal.tenantId, name, change, limits);
      return c.json(topicView(topic), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/topics/{topic}',
      operationId: 'deleteTopic',
      summary: 'Delete a topic',
      tags: ['Topics'],
      request: { params: TopicParamSchema },
      responses: { 204: { description: 'Deleted; its data is unreadable at once' }, ...problemResponses },
    }),
    async (c) => {
      const { topic: name } = c.req.valid('param');
      const { tenantId } = authorize(c, `topic:${name}`, 'manage');
      await topics.delete(tenantId, name);
      return c.body(null, 204);
    },
  );

  return app;
};
