import { describe, expect, it } from 'vitest';
import { hedged } from './hedge';

/** A promise settled by hand. */
const deferred = <T = void>() => {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

/** Attempts the test settles one by one, and a hedge timer it fires by hand. */
const harness = () => {
  const attempts: { signal: AbortSignal; result: ReturnType<typeof deferred<string>> }[] = [];
  const timer = deferred();
  let timerCancelled = false;
  const call = hedged(
    (signal) => {
      const result = deferred<string>();
      attempts.push({ signal, result });
      return result.promise;
    },
    100,
    (ms, signal) => {
      expect(ms).toBe(100);
      signal.addEventListener('abort', () => {
        timerCancelled = true;
      });
      return timer.promise;
    },
  );
  const flush = () => new Promise((r) => setImmediate(r));
  return { attempts, timer, call, flush, cancelled: () => timerCancelled };
};

describe('hedged', () => {
  it('sends one request when the first answers before the hedge is due, and cancels the timer', async () => {
    const h = harness();
    h.attempts[0]?.result.resolve('first');
    await expect(h.call).resolves.toBe('first');
    expect(h.cancelled()).toBe(true);
    h.timer.resolve();
    await h.flush();
    expect(h.attempts).toHaveLength(1);
  });

  it('sends a twin once the hedge is due; the first answer wins and the other is aborted', async () => {
    const h = harness();
    h.timer.resolve();
    await h.flush();
    expect(h.attempts).toHaveLength(2);
    h.attempts[1]?.result.resolve('twin');
    await expect(h.call).resolves.toBe('twin');
    expect(h.attempts[0]?.signal.aborted).toBe(true);
    expect(h.attempts[1]?.signal.aborted).toBe(false);
  });

  it('fails at once when the only request fails before the hedge is due', async () => {
    const h = harness();
    h.attempts[0]?.result.reject(new Error('denied'));
    await expect(h.call).rejects.toThrow('denied');
    h.timer.resolve();
    await h.flush();
    expect(h.attempts).toHaveLength(1);
  });

  it('waits for the twin when one of two fails, and fails with the first error when both do', async () => {
    const one = harness();
    one.timer.resolve();
    await one.flush();
    one.attempts[0]?.result.reject(new Error('reset'));
    one.attempts[1]?.result.resolve('twin');
    await expect(one.call).resolves.toBe('twin');

    const both = harness();
    both.timer.resolve();
    await both.flush();
    both.attempts[1]?.result.reject(new Error('second'));
    await both.flush();
    both.attempts[0]?.result.reject(new Error('first'));
    await expect(both.call).rejects.toThrow('second');
  });
});

describe('hedged with an infinite delay', () => {
  it('never sends a twin', async () => {
    let attempts = 0;
    let timerStarted = false;
    const result = await hedged(
      async () => {
        attempts++;
        await new Promise((r) => setImmediate(r));
        return 'only';
      },
      Number.POSITIVE_INFINITY,
      async () => {
        timerStarted = true;
      },
    );
    expect(result).toBe('only');
    expect(attempts).toBe(1);
    expect(timerStarted).toBe(false);
  });
});
