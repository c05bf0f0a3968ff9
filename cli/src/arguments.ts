import { InvalidArgumentError } from 'commander';

/** commander argument parsers: bad values fail as usage errors (exit 2) before anything is sent. */
export const nonNegativeInt = (value: string): number => {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('expected a whole number ≥ 0.');
  }
  return Number(value);
};

export const positiveInt = (value: string): number => {
  const n = nonNegativeInt(value);
  if (n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1.');
  return n;
};

export const integer = (value: string): number => {
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('expected a whole number.');
  }
  return Number(value);
};

/** Repeatable options (`-H a=1 -H b=2`). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Kafka's topic and group name rule, checked here so a typo is a usage error, not a round trip. */
export const resourceName = (value: string): string => {
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(value)) {
    throw new InvalidArgumentError('names are 1-249 characters of letters, digits, ".", "_" and "-".');
  }
  return value;
};

/** `key=value` of `-H`; the value may be empty and may contain `=`. */
export const parseHeader = (value: string): { key: string; value: string } => {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('expected key=value.');
  return { key: value.slice(0, at), value: value.slice(at + 1) };
};

export const collectHeader = (
  value: string,
  previous: { key: string; value: string }[] = [],
): { key: string; value: string }[] => [...previous, parseHeader(value)];
