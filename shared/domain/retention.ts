import { randomUUID } from 'node:crypto';
import { DAY, HOUR } from '#shared/constants';

/**
 * Segment objects carry a retention-class prefix; an S3 lifecycle rule per class
 * deletes them, with no API calls of ours. A topic's objects go to the smallest class
 * that outlives its retention by at least {@link RETENTION_CLASS_MARGIN_MS}, so an
 * object always outlives the index entries that point at it.
 */
export const RETENTION_CLASSES = [
  { name: '1d', days: 1 },
  { name: '2d', days: 2 },
  { name: '3d', days: 3 },
  { name: '8d', days: 8 },
  { name: '15d', days: 15 },
  { name: '31d', days: 31 },
  { name: '91d', days: 91 },
  { name: '366d', days: 366 },
] as const;

export const FOREVER_CLASS = 'forever';

/** Every class an object key can start with: the expiring ones, then {@link FOREVER_CLASS}. */
export const ALL_CLASS_NAMES: readonly string[] = [...RETENTION_CLASSES.map((c) => c.name), FOREVER_CLASS];

export const RETENTION_CLASS_MARGIN_MS = HOUR;

export const retentionClass = (retentionMs: number): string => {
  if (retentionMs < 0) return FOREVER_CLASS;
  for (const c of RETENTION_CLASSES) {
    if (c.days * DAY >= retentionMs + RETENTION_CLASS_MARGIN_MS) return c.name;
  }
  return FOREVER_CLASS;
};

/** Append times below this are expired for a reader at `now`; -Infinity keeps everything. */
export const retentionCutoff = (retentionMs: number, now: number): number =>
  retentionMs < 0 ? Number.NEGATIVE_INFINITY : now - retentionMs;

/** Days after which the lifecycle rule of a class deletes its objects; undefined for `forever`. */
export const classDays = (className: string): number | undefined =>
  RETENTION_CLASSES.find((c) => c.name === className)?.days;

/**
 * Whether objects in `className` outlive records kept `retentionMs` (with the class
 * margin). An unknown class is treated as too short, so its objects get rehomed.
 */
export const classOutlives = (className: string, retentionMs: number): boolean => {
  if (className === FOREVER_CLASS) return true;
  const days = classDays(className);
  if (days === undefined || retentionMs < 0) return false;
  return days * DAY >= retentionMs + RETENTION_CLASS_MARGIN_MS;
};

/** What a segment object key is made of: the topic incarnation and its retention. */
export interface SegmentOwner {
  tenantId: string;
  topicId: string;
  retentionMs: number;
}

const utcHourPath = (ms: number) => new Date(ms).toISOString().slice(0, 13).replace(/[-T]/g, '/');

/**
 * A new segment object key in the topic's current retention class:
 * `<class>/<tenantId>/<topicId>/<yyyy>/<mm>/<dd>/<hh>/<uuid>.seg` (UTC hour of `now`).
 * Produce and compaction both name their objects with it.
 */
export const segmentKey = (topic: SegmentOwner, now: number): string =>
  `${retentionClass(topic.retentionMs)}/${topic.tenantId}/${topic.topicId}/${utcHourPath(now)}/${randomUUID()}.seg`;

/** The key of a segment's hedged twin: the same place, its own name (`<uuid>.twin.seg`). */
export const twinSegmentKey = (objectKey: string): string => objectKey.replace(/\.seg$/, '.twin.seg');

/** The retention class an object key is in (its first path segment). */
export const classOfKey = (objectKey: string): string => objectKey.slice(0, objectKey.indexOf('/'));
