import { describe, expect, it } from 'vitest';
import { RunnelError } from '#shared/domain/errors';
import type { RecordEventSource, StreamEvent } from '#shared/services/record-stream';
import { sseBody } from './sse';

const timing = { pingIntervalMs: 15_000, maxDurationMs: 60_000, retryMs: 1_000 };

/** A source of pings that moves the (injected) clock to the time it was asked to wait until. */
const pinger = (clock: { now: number }) => {
  let calls = 0;
  const source: RecordEventSource = {
    async next(until) {
      calls++;
      clock.now = until;
      return { event: 'ping', id: String(calls), highWatermarks: [{ partition: 0, highWatermark: calls }] };
    },
  };
  return { source, calls: () => calls };
};

const readAll = async (body: ReadableStream<Uint8Array>) => {
  let text = '';
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) text += chunk;
  return text;
};

const data = (event: StreamEvent) =>
  event.event === 'ping' ? { highWatermark: event.highWatermarks[0]?.highWatermark } : {};

describe('sseBody', () => {
  it('pings every interval and ends cleanly at its time limit, so EventSource reconnects', async () => {
    const clock = { now: 1_000_000 };
    const { source } = pinger(clock);
    const text = await readAll(sseBody({ source, data, timing, clock: () => clock.now }));
    const events = text.split('\n\n').filter((e) => e);
    expect(events).toHaveLength(4);
    expect(events[0]).toBe('retry: 1000\nevent: ping\nid: 1\ndata: {"highWatermark":1}');
    expect(events[3]).toBe('event: ping\nid: 4\ndata: {"highWatermark":4}');
    expect(clock.now).toBe(1_000_000 + timing.maxDurationMs);
    expect(text).not.toContain('event: error');
  });

  it('ends a started stream with an error event carrying the problem', async () => {
    const source: RecordEventSource = {
      next: async () => {
        throw new RunnelError('topic_not_found', "Topic 'feed' does not exist.");
      },
    };
    const text = await readAll(sseBody({ source, data, timing, clock: () => 0 }));
    expect(text).toMatch(/^retry: 1000\nevent: error\ndata: \{.*"code":"topic_not_found".*\}\n\n$/);
  });

  it('reads nothing ahead of the client: one event per read, none while nobody reads', async () => {
    const clock = { now: 0 };
    const { source, calls } = pinger(clock);
    const body = sseBody({ source, data, timing, clock: () => clock.now });
    // Let every pending job run: an eager stream would have pulled by now.
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls()).toBe(0);
    const reader = body.getReader();
    await reader.read();
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls()).toBe(1);
    await reader.read();
    expect(calls()).toBe(2);
    await reader.cancel();
  });
});
