import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { int, issuesOf } from './validation';

const issues = (schema: v.GenericSchema, input: unknown) => {
  const result = v.safeParse(schema, input);
  return result.success ? [] : issuesOf(result.issues).map((i) => ({ path: i.path.join('.'), message: i.message }));
};

describe('validation', () => {
  const Item = v.strictObject({ partition: v.pipe(int(), v.minValue(0)), value: v.optional(v.string()) });
  const Body = v.object({ records: v.array(Item) });

  it('reports each issue with its path as keys and valibot’s message', () => {
    expect(issues(Body, { records: [{ partition: 0 }, { partition: -1 }] })).toEqual([
      { path: 'records.1.partition', message: 'Invalid value: Expected >=0 but received -1' },
    ]);
  });

  it('says plainly that a field is missing or unknown', () => {
    expect(issues(Body, { records: [{ value: 'a' }] })).toEqual([
      { path: 'records.0.partition', message: 'Required.' },
    ]);
    expect(issues(Body, { records: [{ partition: 1, offset: 2 }] })).toEqual([
      { path: 'records.0.offset', message: 'Unknown field; leave it out.' },
    ]);
    // A plain object drops unknown fields; only a strict one refuses them.
    expect(v.parse(Body, { records: [], extra: true })).toEqual({ records: [] });
  });

  it('takes only integers a JSON number holds exactly', () => {
    for (const n of [0, -1, Number.MAX_SAFE_INTEGER]) expect(issues(int(), n)).toEqual([]);
    for (const n of [1.5, Number.MAX_SAFE_INTEGER + 1, Number.POSITIVE_INFINITY, Number.NaN, '1']) {
      expect(issues(int(), n), String(n)).toHaveLength(1);
    }
    expect(issues(int(), 1.5)[0]?.message).toMatch(/^Invalid integer: .* but received 1.5$/);
  });
});
