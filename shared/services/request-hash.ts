import { createHash } from 'node:crypto';

/** SHA-256 over method, path and a canonical (key-sorted) JSON body. */
export const requestHash = (method: string, path: string, body: unknown): string => {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
      );
    }
    return value;
  };
  return createHash('sha256')
    .update(`${method.toUpperCase()} ${path}\n`)
    .update(JSON.stringify(canonical(body)))
    .digest('hex');
};
