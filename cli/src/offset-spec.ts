import { parseDuration } from './durations';
import { UsageError } from './errors';

/**
 * Where `runnel consume -o …` starts, in kcat's grammar:
 * - `beginning` (or `earliest`): the log start offset;
 * - `end` (or `latest`): the high watermark, so only new records;
 * - `N`: absolute offset N;
 * - `-N`: N records before the high watermark (never before the log start);
 * - `@TIMESTAMP_MS` (kcat's `s@TIMESTAMP_MS` too): the first record at or after that time;
 * - `-1h`, `-30m`, `-7d`: records of the last hour, half hour, week (a time, resolved now).
 * - `stored`: the group's committed offset (the default with `-G`).
 */
export type OffsetSpec =
  | { kind: 'beginning' }
  | { kind: 'end' }
  | { kind: 'stored' }
  | { kind: 'absolute'; offset: number }
  | { kind: 'fromEnd'; count: number }
  | { kind: 'timestamp'; timestampMs: number };

export const parseOffsetSpec = (text: string, now: () => number = Date.now): OffsetSpec => {
  const spec = text.trim();
  if (spec === 'beginning' || spec === 'earliest') return { kind: 'beginning' };
  if (spec === 'end' || spec === 'latest') return { kind: 'end' };
  if (spec === 'stored') return { kind: 'stored' };
  if (/^\d+$/.test(spec)) return { kind: 'absolute', offset: safeNumber(spec, text) };
  if (/^-\d+$/.test(spec)) {
    const count = safeNumber(spec.slice(1), text);
    return { kind: 'fromEnd', count };
  }
  const at = /^s?@(\d+)$/.exec(spec);
  if (at?.[1] !== undefined) return { kind: 'timestamp', timestampMs: safeNumber(at[1], text) };
  if (/^-\d+(ms|s|m|h|d|w)$/.test(spec)) {
    return { kind: 'timestamp', timestampMs: Math.max(0, now() - parseDuration(spec.slice(1))) };
  }
  throw new UsageError(
    `bad offset "${text}": use beginning, end, stored, N, -N, @TIMESTAMP_MS or a time ago such as -1h`,
  );
};

const safeNumber = (digits: string, original: string): number => {
  const value = Number(digits);
  if (!Number.isSafeInteger(value)) throw new UsageError(`offset "${original}" is too large`);
  return value;
};

/** A partition's bounds, as a topic description or a fetch reports them. */
export interface PartitionBounds {
  logStartOffset: number;
  highWatermark: number;
}

/**
 * The offset to fetch from for a spec that needs no lookup; `undefined` for a timestamp
 * (the caller asks the server's offsets-by-time) and for `stored` (the group decides).
 */
export const startOffset = (spec: OffsetSpec, bounds: PartitionBounds): number | undefined => {
  switch (spec.kind) {
    case 'beginning':
      return bounds.logStartOffset;
    case 'end':
      return bounds.highWatermark;
    case 'absolute':
      return spec.offset;
    case 'fromEnd':
      return Math.max(bounds.logStartOffset, bounds.highWatermark - spec.count);
    case 'timestamp':
    case 'stored':
      return undefined;
  }
};
