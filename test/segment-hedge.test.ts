import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INLINE_BATCH_MAX_BYTES } from '#shared/constants';
import type { SegmentStore } from '#shared/ports/segment-store';
import { type Stack, startStack } from './harness';

/**
 * The hedged segment PUT through the app, on s3rver: the first PUT of a produce is held
 * (a wrapper over the real segment store that waits for the test), the hedge timer is
 * fired by hand, the twin writes the same bytes under its own key, and the produce
 * answers from it: the records read back exactly, from the twin's object.
 */
let stack: Stack;
let hold: ((key: string) => Promise<void>) | undefined;
const puts: string[] = [];
let fireHedge: () => void = () => {};
/** The hedge timer: due when the test says so (it may say so before the timer starts). */
const hedgeDue = new Promise<void>((resolve) => {
  fireHedge = resolve;
});

beforeAll(async () => {
  stack = await startStack({
    deps: {
      segmentHedge: {
        afterMs: 100,
        delay: () => hedgeDue,
      },
    },
  });
  const real = stack.deps.segments;
  const put = real.put.bind(real);
  (real as { put: SegmentStore['put'] }).put = async (key, body) => {
    puts.push(key);
    await hold?.(key);
    return put(key, body);
  };
});
afterAll(() => stack.close());

describe('hedged segment PUT', () => {
  it('answers from the twin while the first PUT hangs, and the records read back from the twin object', async () => {
    expect((await stack.api.post('/v1/topics', { name: 'hedged', partitions: 1 })).status).toBe(201);
    let releaseFirst: () => void = () => {};
    hold = (key) => {
      if (key.endsWith('.twin.seg')) return Promise.resolve();
      // The first PUT hangs; the hedge is due now.
      fireHedge();
      return new Promise<void>((resolve) => {
        releaseFirst = resolve;
      });
    };
    const value = 'x'.repeat(INLINE_BATCH_MAX_BYTES);
    const res = await stack.api.post('/v1/topics/hedged/records', { records: [{ value }, { value }] });
    expect(res.status).toBe(200);
    expect(puts).toHaveLength(2);
    expect(puts[1]).toBe((puts[0] as string).replace(/\.seg$/, '.twin.seg'));
    const fetched = await stack.api.get('/v1/topics/hedged/partitions/0/records');
    expect(fetched.body.records.map((r: { value: string }) => r.value)).toEqual([value, value]);
    // The first PUT lands late: an orphan object nothing points at (maintenance deletes it).
    releaseFirst();
    hold = undefined;
  });
});
