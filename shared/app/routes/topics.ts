import * as v from 'valibot';
import { canSee } from '#shared/domain/permissions';
import type { Topic } from '#shared/ports/metadata-store';
import type { TopicService } from '#shared/services/topics';
import { authorize } from '../middleware/auth';
import { createRoute, json, newRouter, problemResponses } from '../router';
import { PartitionStateSchema, TopicParamSchema, TopicSchema } from '../schemas';

export const topicView = (topic: Topic) => ({
  name: topic.name,
  partitions: topic.partitions,
  retentionMs: topic.retentionMs,
  createdAt: topic.createdAt,
});

/**
 * Describing a topic, at start: clients read a topic's partitions before they produce
 * (keyed records are partitioned client-side). Creating, listing, changing and deleting
 * topics are in topic-admin.ts, loaded on first use.
 */
export const topicRoutes = ({ topics }: { topics: TopicService }) => {
  const app = newRouter();

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

  return app;
};
