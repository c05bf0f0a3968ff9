/**
 * How the CLI fails. Exit codes follow the usual convention (and kcat's and rpk's):
 * 0 done, 1 the operation failed (the server refused, the network broke), 2 the command
 * line was wrong and nothing was sent.
 */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/** Bad usage found by our own checks (a malformed offset, a bad `-H`): exit 2, one line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure of the operation the user asked for, found by the CLI itself (not a server problem). */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}
