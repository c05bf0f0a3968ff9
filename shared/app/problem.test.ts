import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { ERRORS, type ErrorCode, RunnelError, StorageUnavailableError } from '#shared/domain/errors';
import { problemResponse, toRunnelError } from './problem';

const named = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(name), { name, ...extra });

const render = async (error: RunnelError) => {
  const app = new Hono();
  app.get('/', (c) => problemResponse(c, error));
  const res = await app.request('/');
  return { res, body: (await res.json()) as Record<string, unknown> };
};

describe('toRunnelError', () => {
  it('keeps RunnelErrors as they are', () => {
    const error = new RunnelError('topic_not_found', 'x');
    expect(toRunnelError(error)).toBe(error);
  });

  it('answers anything else with a bare 500 that names no internals and does not promise a safe retry', () => {
    const mapped = toRunnelError(named('ValidationException', { $fault: 'client' }));
    expect(mapped.status).toBe(500);
    expect(mapped.code).toBe('internal');
    expect(mapped.retriable).toBe(false);
    expect(mapped.message).not.toContain('ValidationException');
    expect(mapped.message).not.toMatch(/safe to retry/);
    expect(toRunnelError(new TypeError('boom')).status).toBe(500);
  });

  it('knows no storage error names: an unclassified throttling error is a 500', () => {
    expect(toRunnelError(named('ThrottlingException')).status).toBe(500);
  });
});

describe('problemResponse', () => {
  it('takes status, title and retriability from the one table', async () => {
    for (const code of Object.keys(ERRORS) as ErrorCode[]) {
      const error = new RunnelError(code, 'detail');
      expect(error.status).toBe(ERRORS[code].status);
      expect(error.retriable).toBe(ERRORS[code].retriable);
      const { res, body } = await render(error);
      expect(res.status).toBe(ERRORS[code].status);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(body).toEqual({
        type: `urn:runnel:problem:${code}`,
        title: ERRORS[code].title,
        status: ERRORS[code].status,
        detail: 'detail',
        code,
      });
    }
  });

  it('renders the typed recovery fields and Retry-After from retryAfterMs', async () => {
    const { res, body } = await render(
      new RunnelError('rebalance_in_progress', 'moved on', {
        generation: 7,
        assignments: [{ topic: 't', partitions: [0, 2] }],
      }),
    );
    expect(res.status).toBe(409);
    expect(body).toMatchObject({
      code: 'rebalance_in_progress',
      generation: 7,
      assignments: [{ topic: 't', partitions: [0, 2] }],
    });
    const throttled = await render(new RunnelError('throttled', 'slow down', { retryAfterMs: 1_200, limit: 10 }));
    expect(throttled.res.headers.get('retry-after')).toBe('2');
    expect(throttled.body).toMatchObject({ retryAfterMs: 1_200, limit: 10 });
    const unavailable = await render(new StorageUnavailableError(named('SlowDown')));
    expect(unavailable.res.status).toBe(503);
    expect(unavailable.res.headers.get('retry-after')).toBe('1');
    expect(JSON.stringify(unavailable.body)).not.toContain('SlowDown');
  });

  it('sets Allow on 405', async () => {
    const { res } = await render(new RunnelError('method_not_allowed', 'no', {}, { allow: ['GET', 'HEAD'] }));
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });
});
