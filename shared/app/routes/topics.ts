import * as v from 'valibot';
import type { Limits } from '#shared/constants';
import { invalidRequest } from '#shared/domain/errors';
import { canSee } from '#shared/domain/permissions';
import type { Topic } from '#shared/ports/metadata-store';
import { defaultRetentionMs, type QuotaService } from '#shared/services/quotas';
import type { TopicService } from '#shared/services/topics';
import { authorize } from '../middleware/auth';
import { bodyProblemResponses, createRoute, json, newRouter, problem, problemResponses } from '../router';
import { CreateTopicSchema, PartitionStateSchema, TopicParamSchema, TopicSchema, UpdateTopicSchema } from '../schemas';

export const topicView = (topic: Topic) => ({
  name: topic.name,
  partitions: topic.partitions,
  retentionMs: topic.retentionMs,
  createdAt: topic.createdAt,
});

/** A bad parameter (400) is refused before a quota (403) is looked at. */
const checkPartitionsPerTopic = (partitions: number, limits: Limits) => {
  if (partitions > limits.maxPartitionsPerTopic) {
    throw invalidRequest(`A topic has at most ${limits.maxPartitionsPerTopic} partitions.`);
  }
};

export const topicRoutes = ({
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
      method: 'get',
      path: '/topics/{topic}',
      operationId: 'describeTopic',
      summary: 'Describe a topic and its partitions',
      tags: ['Topics'],
      request: { params: TopicParamSchema },
      responses: {
        200: json(
          v.object({ ...TopicSchema.entries, partitionStates: v.array(PartitionStateSchema) }),
          'The topic with its partitions',
        ),
        ...problemResponses,
      },
    }),
    async (c) => {
      const { topic: name } = c.req.valid('param');
      const principal = c.get('principal');
      if (!canSee(principal.permissions, `topic:${name}`)) authorize(c, `topic:${name}`, 'consume');
      const topic = await topics.get(principal.tenantId, name);
      const partitionStates = await topics.partitionStates(topic);
      return c.json({ ...topicView(topic), partitionStates }, 200);
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
