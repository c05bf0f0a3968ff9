import { RunnelError } from '#shared/domain/errors';

export const groupNotFound = (group: string) =>
  new RunnelError('group_not_found', 404, `Consumer group '${group}' does not exist.`);

/** A stale member or generation: the client must heartbeat (or join again) before it may go on. */
export const fenced = (detail: string, extensions?: Record<string, unknown>) =>
  new RunnelError('fenced', 409, detail, { extensions });

export const rebalanceInProgress = (detail: string) =>
  new RunnelError('rebalance_in_progress', 409, detail, { retryAfterSeconds: 1 });
