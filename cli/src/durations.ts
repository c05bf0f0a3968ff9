import { UsageError } from './errors';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `500ms`, `30s`, `15m`, `1h`, `7d`, `2w` → milliseconds. Throws on anything else. */
export const parseDuration = (text: string): number => {
  const match = /^(\d+)(ms|s|m|h|d|w)$/.exec(text.trim());
  const unit = match?.[2];
  if (!match || unit === undefined) {
    throw new UsageError(`"${text}" is not a duration (examples: 30s, 15m, 1h, 7d)`);
  }
  const ms = Number(match[1]) * (UNIT_MS[unit] ?? 0);
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new UsageError(`"${text}" is not a positive duration`);
  return ms;
};

/**
 * A topic's retention: a duration (`7d`, `12h`), a number of milliseconds, or `-1` /
 * `forever` for no time limit (Kafka's `retention.ms=-1`).
 */
export const parseRetention = (text: string): number => {
  const trimmed = text.trim();
  if (trimmed === '-1' || trimmed === 'forever') return -1;
  if (/^\d+$/.test(trimmed)) {
    const ms = Number(trimmed);
    if (!Number.isSafeInteger(ms) || ms <= 0) throw new UsageError(`retention "${text}" must be positive`);
    return ms;
  }
  return parseDuration(trimmed);
};

/** The reverse of parseRetention for display: `7d`, `36h`, `forever`. */
export const formatRetention = (ms: number): string => {
  if (ms < 0) return 'forever';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit] ?? 1;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
};
