import { type AssignedPartitions, RunnelError } from '#shared/domain/errors';

export const groupNotFound = (group: string) =>
  new RunnelError('group_not_found', `Consumer group '${group}' does not exist.`);

/**
 * The member is unknown or its session ran out (or, for a standalone commit, the group
 * has live members): a member must join again before it may go on.
 */
export const fenced = (detail: string, generation?: number) =>
  new RunnelError('fenced', detail, generation === undefined ? {} : { generation });

/**
 * A live member spoke for a generation that is not the group's current one (or for a
 * partition it does not own in it): it carries on with the current generation and the
 * assignments carried here, without joining again (Kafka's REBALANCE_IN_PROGRESS).
 */
export const rebalanceInProgress = (
  detail: string,
  current: { generation: number; assignments: AssignedPartitions[] },
) =>
  new RunnelError('rebalance_in_progress', detail, {
    generation: current.generation,
    assignments: current.assignments,
  });
