/**
 * A hedged request: S3's answer times have a long tail (a median in the tens of ms, a
 * p99 of a couple of hundred), and a second, identical request sent once the first is
 * slower than most rarely meets the tail again. AWS's own guidance for S3 is to retry
 * slow requests; this sends the second beside the first instead of abandoning it.
 */

/** Waits `ms` unless `signal` aborts first (then rejects). */
export const abortableDelay = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/**
 * Runs `attempt`; when it has not settled after `afterMs`, runs a second, identical one
 * beside it. Answers the first success and aborts the other; fails only when every
 * attempt started has failed (with the first error). A first attempt that fails before
 * the hedge is due fails the call at once: retrying errors is the SDK's job, not this.
 * `index` tells the twin (1) from the first (0), e.g. to write it under its own key.
 */
export const hedged = <T>(
  attempt: (signal: AbortSignal, index: 0 | 1) => Promise<T>,
  afterMs: number,
  delay: (ms: number, signal: AbortSignal) => Promise<void> = abortableDelay,
): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const attempts: AbortController[] = [];
    const hedge = new AbortController();
    let pending = 0;
    let settled = false;
    let firstError: unknown;
    const settle = () => {
      settled = true;
      hedge.abort(new Error('hedge not needed'));
    };
    const run = (index: 0 | 1) => {
      const controller = new AbortController();
      attempts.push(controller);
      pending++;
      attempt(controller.signal, index).then(
        (value) => {
          if (settled) return;
          settle();
          for (const other of attempts)
            if (other !== controller) other.abort(new Error('the hedged twin answered first'));
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return;
          if (firstError === undefined) firstError = error;
          if (--pending === 0) {
            settle();
            reject(firstError);
          }
        },
      );
    };
    run(0);
    // An infinite afterMs turns hedging off (setTimeout would fire it at once).
    if (!Number.isFinite(afterMs)) return;
    delay(afterMs, hedge.signal).then(
      () => {
        if (!settled) run(1);
      },
      () => {},
    );
  });
