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
