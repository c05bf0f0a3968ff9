import * as z from 'zod';
import { GROUP_DEFAULTS, GROUP_LIMITS } from '#shared/constants';
import { canSee, permissionsCover } from '#shared/domain/permissions';
import type { Authenticator } from '#shared/services/auth';
import type { GroupService } from '#shared/services/groups';
import type { QuotaService } from '#shared/services/quotas';
import { authorize } from '../middleware/auth';
import {
  bodyProblemResponses,
  createRoute,
  json,
  newRouter,
  problem,
  problemResponses,
  throttledResponse,
} from '../router';
import { FetchedRecordSchema, FetchQuerySchema, NameSchema } from '../schemas';
import { encodeRecord } from '../wire';

const GroupParamSchema = z.object({ group: NameSchema });
const MemberParamSchema = z.object({
  group: NameSchema,
  memberId: z.string().regex(/^[a-zA-Z0-9._-]{1,128}$/, 'memberId is 1-128 characters of [a-zA-Z0-9._-].'),
});

const AssignmentSchema = z
  .object({ topic: z.string(), partitions: z.array(z.number().int()) })
  .meta({ id: 'Assignment' });
const MemberAssignmentSchema = z
  .object({ generation: z.number().int(), assignments: z.array(AssignmentSchema) })
  .meta({ id: 'MemberAssignment' });

const JoinSchema = z
  .object({
    topics: z.array(NameSchema).min(1).max(GROUP_LIMITS.maxTopicsPerMember),
    sessionTimeoutMs: z
      .number()
      .int()
      .min(GROUP_LIMITS.minSessionTimeoutMs)
      .max(GROUP_LIMITS.maxSessionTimeoutMs)
      .default(GROUP_DEFAULTS.sessionTimeoutMs),
    autoOffsetReset: z.enum(['earliest', 'latest']).default(GROUP_DEFAULTS.autoOffsetReset),
  })
  .strict()
  .meta({ id: 'JoinGroup' });

const CommitSchema = z
  .object({
    memberId: MemberParamSchema.shape.memberId.optional(),
    generation: z.number().int().min(0).optional(),
    offsets: z
      .array(
        z
          .object({
            topic: NameSchema,
            partition: z.number().int().min(0),
            offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
            metadata: z.string().max(4096).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(GROUP_LIMITS.maxOffsetsPerCommit),
  })
  .strict()
  .refine((body) => (body.memberId === undefined) === (body.generation === undefined), {
    message: 'memberId and generation go together (leave both out for a standalone commit).',
    path: ['generation'],
  })
  .meta({ id: 'CommitOffsets' });

const CommittedOffsetSchema = z
  .object({ topic: z.string(), partition: z.number().int(), offset: z.number().int(), metadata: z.string().nullable() })
  .meta({ id: 'CommittedOffset' });

const GroupSchema = z
  .object({
    group: z.string(),
    generation: z.number().int(),
    members: z.array(
      z.object({
        memberId: z.string(),
        topics: z.array(z.string()),
        assignments: z.array(AssignmentSchema),
        lastHeartbeat: z.number().int().nullable(),
      }),
    ),
    partitions: z.array(
      z.object({
        topic: z.string(),
        partition: z.number().int(),
        committedOffset: z.number().int().nullable(),
        highWatermark: z.number().int(),
        lag: z.number().int().nullable(),
      }),
    ),
  })
  .meta({ id: 'Group' });

/** A partition fetch's query without `offset`: a member reads from its committed offsets. */
const GroupFetchQuerySchema = FetchQuerySchema.omit({ offset: true });

const conflict = {
  409: problem(
    'rebalance_in_progress: a live member with an out-of-date generation; the problem carries the current ' +
      "`generation` and the member's `assignments`, to carry on with (no re-join). fenced: the member is unknown " +
      'or expired (join again), or a standalone commit while the group has live members.',
  ),
} as const;

/**
 * A heartbeat or leave speaks for a member, so the key must be allowed to consume every
 * topic the member subscribed to (as it had to be to join): a key with `group:*` but no
 * access to a topic cannot keep alive or remove a member reading it. A key that consumes
 * every topic needs no extra read.
 */
const authorizeMember = async (
  c: Parameters<typeof authorize>[0],
  groups: GroupService,
  tenantId: string,
  group: string,
  memberId: string,
) => {
  const { permissions } = c.get('principal');
  if (permissionsCover(permissions, [{ resource: 'topic:*', actions: ['consume'] }])) return;
  for (const topic of await groups.memberTopics(tenantId, group, memberId)) authorize(c, `topic:${topic}`, 'consume');
};

export const groupRoutes = ({
  groups,
  quotas,
  authenticator,
}: {
  groups: GroupService;
  quotas: QuotaService;
  authenticator: Authenticator;
}) => {
  const app = newRouter();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/groups/{group}/members',
      operationId: 'joinGroup',
      summary: 'Join a consumer group',
      tags: ['Consumer groups'],
      request: {
        params: GroupParamSchema,
        body: { content: { 'application/json': { schema: JoinSchema } }, required: true },
      },
      responses: {
        200: json(MemberAssignmentSchema.extend({ memberId: z.string() }), 'Joined: the member id and its partitions'),
        ...conflict,
        ...bodyProblemResponses,
        ...problemResponses,
      },
    }),
    async (c) => {
      const { group } = c.req.valid('param');
      const { tenantId } = authorize(c, `group:${group}`, 'consume');
      const body = c.req.valid('json');
      for (const topic of body.topics) authorize(c, `topic:${topic}`, 'consume');
      const joined = await groups.join(tenantId, group, body);
      return c.json(joined, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/groups/{group}/members/{memberId}/heartbeat',
      operationId: 'heartbeat',
      summary: 'Heartbeat a member',
      tags: ['Consumer groups'],
      request: { params: MemberParamSchema },
      responses: {
        200: json(MemberAssignmentSchema, 'The current generation and the member’s partitions'),
        ...conflict,
        ...problemResponses,
      },
    }),
    async (c) => {
      const { group, memberId } = c.req.valid('param');
      const { tenantId } = authorize(c, `group:${group}`, 'consume');
      await authorizeMember(c, groups, tenantId, group, memberId);
      return c.json(await groups.heartbeat(tenantId, group, memberId), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/groups/{group}/members/{memberId}',
      operationId: 'leaveGroup',
      summary: 'Leave a consumer group',
      tags: ['Consumer groups'],
      request: { params: MemberParamSchema },
      responses: {
        204: {
          description: 'Left; the others rebalance at once. Also 204 for a member already gone (a retried leave).',
        },
        ...problemResponses,
      },
    }),
    async (c) => {
      const { group, memberId } = c.req.valid('param');
      const { tenantId } = authorize(c, `group:${group}`, 'consume');
      await authorizeMember(c, groups, tenantId, group, memberId);
      await groups.leave(tenantId, group, memberId);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/groups/{group}/offsets',
      operationId: 'commitOffsets',
      summary: 'Commit offsets',
      tags: ['Consumer groups'],
      request: {
        params: GroupParamSchema,
        body: { content: { 'application/json': { schema: CommitSchema } }, required: true },
      },
      responses: {
        204: { description: 'Committed' },
        ...conflict,
        416: problem('`offset_out_of_range`: an offset above the partition’s high watermark'),
        ...bodyProblemResponses,
        ...problemResponses,
      },
    }),
    async (c) => {
      const { group } = c.req.valid('param');
      const { tenantId } = authorize(c, `group:${group}`, 'consume');
      const body = c.req.valid('json');
      for (const topic of new Set(body.offsets.map((o) => o.topic))) authorize(c, `topic:${topic}`, 'consume');
      await groups.commit(tenantId, group, body);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/groups/{group}/offsets',
      operationId: 'listCommittedOffsets',
      summary: 'List committed offsets',
      tags: ['Consumer groups'],
      request: { params: GroupParamSchema, query: z.object({ topic: NameSchema.optional() }) },
      responses: {
        200: json(z.object({ offsets: z.array(CommittedOffsetSchema) }), 'Committed offsets'),
        ...problemResponses,
      },
    }),
    async (c) => {
      const { group } = c.req.valid('param');
      const { topic } = c.req.valid('query');
      const { tenantId, permissions } = authorize(c, `group:${group}`, 'consume');
      if (topic !== undefined) authorize(c, `topic:${topic}`, 'consume');
      const offsets = await groups.offsets(tenantId, group, topic);
      return c.json({ offsets: offsets.filter((o) => canSee(permissions, `topic:${o.topic}`)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/groups/{group}',
      operationId: 'describeGroup',
      summary: 'Describe a group: members, assignments, offsets and lag',
      tags: ['Consumer groups'],
      request: { params: GroupParamSchema },
      responses: { 200: json(GroupSchema, 'Members, assignments, committed offsets and lag'), ...problemResponses },
    }),
    async (c) => {
      const { group } = c.req.valid('param');
      const principal = c.get('principal');
      if (!canSee(principal.permissions, `group:${group}`)) authorize(c, `group:${group}`, 'consume');
      const described = await groups.describe(principal.tenantId, group);
      // Members, their topics and their assignments only on topics the key may see.
      const visible = (topic: string) => canSee(principal.permissions, `topic:${topic}`);
      const partitions = described.partitions.filter((p) => visible(p.topic));
      const members = described.members
        .map((m) => ({
          ...m,
          topics: m.topics.filter(visible),
          assignments: m.assignments.filter((a) => visible(a.topic)),
        }))
        .filter((m) => m.topics.length > 0);
      return c.json({ ...described, members, partitions }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/groups',
      operationId: 'listGroups',
      summary: 'List the tenant’s consumer groups',
      tags: ['Consumer groups'],
      responses: {
        200: json(
          z.object({
            groups: z.array(z.object({ group: z.string(), generation: z.number().int(), members: z.number().int() })),
          }),
          'The tenant’s groups, with their generation and number of live members',
        ),
        ...problemResponses,
      },
    }),
    async (c) => {
      const { tenantId, permissions } = c.get('principal');
      const all = await groups.list(tenantId);
      return c.json({ groups: all.filter((g) => canSee(permissions, `group:${g.group}`)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/groups/{group}/members/{memberId}/records',
      operationId: 'groupFetch',
      summary: 'Fetch records for a member',
      tags: ['Consumer groups'],
      request: { params: MemberParamSchema, query: GroupFetchQuerySchema },
      responses: {
        200: json(
          z.object({
            generation: z.number().int(),
            records: z.array(FetchedRecordSchema.extend({ topic: z.string(), partition: z.number().int() })),
          }),
          'Records of the member’s partitions from the committed offsets; counts as a heartbeat',
        ),
        ...conflict,
        ...problemResponses,
        ...throttledResponse,
      },
    }),
    async (c) => {
      const { group, memberId } = c.req.valid('param');
      const principal = authorize(c, `group:${group}`, 'consume');
      const query = c.req.valid('query');
      quotas.checkFetch(principal);
      const result = await groups.fetch(principal.tenantId, group, memberId, query, (topic) =>
        authorize(c, `topic:${topic}`, 'consume'),
      );
      if (result.waited && result.records.length > 0) await authenticator.confirm(principal);
      await quotas.recordFetchedRecords(principal, result.records);
      return c.json(
        {
          generation: result.generation,
          records: result.records.map((r) => ({
            topic: r.topic,
            partition: r.partition,
            ...encodeRecord(r, query.encoding),
          })),
        },
        200,
      );
    },
  );

  return app;
};
