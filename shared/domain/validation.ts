import * as v from 'valibot';

/**
 * What the service takes from its schema library (valibot): issues in one shape, and the
 * few schemas every input module needs. Request validation (shared/app/router.ts), the
 * connector configurations and the hosts' environment all report through {@link issuesOf}.
 */

/** One problem with an input: where (`records.0.partition`, as keys) and what. */
export interface Issue {
  path: PropertyKey[];
  message: string;
}

/** An issue as a schema reports it: valibot's, or any Standard Schema issue. */
interface RawIssue {
  readonly message: string;
  readonly path?: readonly (PropertyKey | { readonly key: unknown; readonly origin?: string })[] | undefined;
  readonly expected?: string | null;
  readonly received?: string;
}

const keyOf = (item: PropertyKey | { readonly key: unknown }): PropertyKey =>
  typeof item === 'object' ? (item.key as PropertyKey) : item;

/**
 * A missing or unknown field, said plainly: valibot words both as an invalid key
 * ("Invalid key: Expected "name" but received undefined"); the path already names the field.
 */
const messageOf = (issue: RawIssue) => {
  const last = issue.path?.at(-1);
  if (typeof last !== 'object' || last.origin !== 'key') return issue.message;
  if (issue.expected === 'never') return 'Unknown field; leave it out.';
  if (issue.received === 'undefined') return 'Required.';
  return issue.message;
};

/** Schema issues as the service reports them. */
export const issuesOf = (issues: readonly RawIssue[]): Issue[] =>
  issues.map((issue) => ({ path: (issue.path ?? []).map(keyOf), message: messageOf(issue) }));

/** An integer a JSON number holds exactly (no fractions, no infinities, within ±2^53-1). */
export const int = () =>
  v.pipe(
    v.number(),
    v.safeInteger(
      (issue) => `Invalid integer: Expected a whole number within ±(2^53-1) but received ${issue.received}`,
    ),
  );
