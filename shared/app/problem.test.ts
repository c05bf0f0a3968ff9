import { describe, expect, it } from 'vitest';
import { RunnelError } from '#shared/domain/errors';
import { toRunnelError } from './problem';

const named = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(name), { name, ...extra });

describe('toRunnelError', () => {
  it('keeps RunnelErrors as they are', () => {
    const error = new RunnelError('topic_not_found', 404, 'x');
    expect(toRunnelError(error)).toBe(error);
  });

  it.each([
    [named('ThrottlingException')],
    [named('ProvisionedThroughputExceededException')],
    [named('SlowDown')],
    [named('TimeoutError')],
    [named('Error', { code: 'ECONNRESET' })],
    [named('InternalFailure', { $fault: 'server' })],
  ])('answers a transient storage failure (%s) with 503 and Retry-After', (error) => {
    const mapped = toRunnelError(error);
    expect(mapped.status).toBe(503);
    expect(mapped.code).toBe('unavailable');
    expect(mapped.retryAfterSeconds).toBe(1);
    expect(mapped.retriable).toBe(true);
  });

  it('answers anything else with a bare 500 that names no internals', () => {
    const mapped = toRunnelError(named('ValidationException', { $fault: 'client' }));
    expect(mapped.status).toBe(500);
    expect(mapped.code).toBe('internal');
    expect(mapped.message).not.toContain('ValidationException');
    expect(toRunnelError(new TypeError('boom')).status).toBe(500);
  });
});
