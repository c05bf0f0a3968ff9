import type { ScheduledEvent } from 'aws-lambda';

/**
 * Placeholder for the scheduled maintenance job (retention trim, compaction), which is
 * built separately; it only records that the schedule fired, as one JSON line.
 */
export const handler = async (event: ScheduledEvent): Promise<void> => {
  console.log(JSON.stringify({ level: 'info', msg: 'maintenance run', time: event.time, eventId: event.id }));
};
