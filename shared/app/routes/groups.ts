import * as v from 'valibot';
import { GROUP_DEFAULTS, GROUP_LIMITS } from '#shared/constants';
import { canSee, permissionsCover } from '#shared/domain/permissions';
import { int } from '#shared/domain/validation';
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

const GroupParamSchema = v.object({ group: NameSchema });
const MemberIdSchema = v.pipe(
  v.string(),
  v.regex(/^[a-zA-Z0-9._-]{1,128}$/, 'memberId is 1-128 characters of [a-zA-Z0-9._-].'),
);
const MemberParamSchema = v.object({ group: NameSchema, memberId: MemberIdSchema });

const AssignmentSchema = v.pipe(
  v.object({ topic: v.string(), partitions: v.array(int()) }),
  v.metadata({ id: 'Assignment' }),
);
const MemberAssignmentSchema = v.pipe(
  v.object({ generation: int(), assignments: v.array(AssignmentSchema) }),
  v.metadata({ id: 'MemberAssignment' }),
);

const JoinSchema = v.pipe(
  v.strictObject({
    topics: v.pipe(v.array(NameSchema), v.minLength(1), v.maxLength(GROUP_LIMITS.maxTopicsPerMember)),
    sessionTimeoutMs: v.optional(
      v.pipe(int(), v.minValue(GROUP_LIMITS.minSessionTimeoutMs), v.maxValue(GROUP_LIMITS.maxSessionTimeoutMs)),
      GROUP_DEFAULTS.sessionTimeoutMs,
    ),
    autoOffsetReset: v.optional(v.picklist(['earliest', 'latest']), GROUP_DEFAULTS.autoOffsetReset),
  }),
  v.metadata({ id: 'JoinGroup' }),
);

const CommitSchema = v.pipe(
  v.strictObject({
    memberId: v.optional(MemberIdSchema),
    generation: v.optional(v.pipe(int(), v.minValue(0))),
    offsets: v.pipe(
      v.array(
        v.strictObject({
          topic: NameSchema,
          partition: v.pipe(int(), v.minValue(0)),
          offset: v.pipe(int(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER)),
          metadata: v.optional(v.pipe(v.string(), v.maxLength(4096))),
        }),
      ),
      v.minLength(1),
      v.maxLength(GROUP_LIMITS.maxOffsetsPerCommit),
    ),
  }),
  v.forward(
    v.check(
      (body) => (body.memberId === undefined) === (body.generation === undefined),
      'memberId and generation go together (leave both out for a standalone commit).',
    ),
    ['generation'],
  ),
  v.metadata({ id: 'CommitOffsets' }),
);

const CommittedOffsetSchema = v.pipe(
  v.object({ topic: v.string(), partition: int(), offset: int(), metadata: v.nullable(v.string()) }),
  v.metadata({ id: 'CommittedOffset' }),
);

const GroupSchema = v.pipe(
  v.object({
    group: v.string(),
    generation: int(),
    members: v.array(
      v.object({
        memberId: v.string(),
        topics: v.array(v.string()),
        assignments: v.array(AssignmentSchema),
        lastHeartbeat: v.nullable(int()),
      }),
    ),
    partitions: v.array(
      v.object({
        topic: v.string(),
        partition: int(),
        committedOffset: v.nullable(int()),
        highWatermark: int(),
        lag: v.nullable(int()),
      }),
    ),
  }),
  v.metadata({ id: 'Group' }),
);

/** A partition fetch's query without `offset`: a member reads from its committed offsets. */
const GroupFetchQuerySchema = v.omit(FetchQuerySchema, ['offset']);

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
        200: json(
          v.object({ ...MemberAssignmentSchema.entries, memberId: v.string() }),
          'Joined: the member id and its partitions',
        ),
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
      request: { params: GroupParamSchema, query: v.object({ topic: v.optional(NameSchema) }) },
      responses: {
        200: json(v.object({ offsets: v.array(CommittedOffsetSchema) }), 'Committed offsets'),
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
          v.object({ groups: v.array(v.object({ group: v.string(), generation: int(), members: int() })) }),
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
          v.object({
            generation: int(),
            records: v.array(v.object({ ...FetchedRecordSchema.entries, topic: v.string(), partition: int() })),
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
