import type { StreamTiming } from '#shared/constants';
import type { RunnelError } from '#shared/domain/errors';
import type { RecordEventSource, StreamEvent } from '#shared/services/record-stream';
import { problemBody, toRunnelError } from '../problem';

/**
 * What a stream does after an event is ready (a test hook: connections cut at chosen
 * points, as networks and load balancers cut them). `deliver` is the normal case.
 */
export type StreamFault = 'deliver' | 'end' | 'cut-before' | 'cut-inside' | 'cut-after';

export interface StreamFaults {
  /** Asked once per event, in order. */
  onEvent(): StreamFault;
}

export interface SseOptions {
  source: RecordEventSource;
  /** The `data` of an event (JSON). */
  data(event: StreamEvent): unknown;
  timing: StreamTiming;
  clock: () => number;
  /**
   * Called with each event before it is sent (quota accounting, re-checking the caller's
   * key); what it throws ends the stream with an `error` event.
   */
  beforeSend?: (event: StreamEvent) => Promise<void>;
  /** Called with a failure that ended a started stream (5xx are logged). */
  onError?: (error: RunnelError) => void;
  faults?: StreamFaults | undefined;
  /** Called once when the stream ends, however it ends (closed, failed, cancelled by the client). */
  onEnd?: () => void;
}

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-store',
  // Proxies (nginx and friends) pass each event on at once instead of buffering.
  'X-Accel-Buffering': 'no',
} as const;

const encoder = new TextEncoder();

/** One SSE event. JSON.stringify never emits a line break, so `data` is one line. */
export const formatEvent = (event: string, data: unknown, id?: string) =>
  `event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`;

/**
 * The event stream as a pull-based body: the next event is fetched only when the
 * consumer (the socket, through the host's backpressure) asks for more, so a stalled
 * client makes the server stop reading instead of buffering. The stream ends cleanly
 * after `maxDurationMs` (EventSource then reconnects with Last-Event-ID) and with an
 * `error` event on a failure.
 */
export const sseBody = ({ source, data, timing, clock, beforeSend, onError, faults, onEnd }: SseOptions) => {
  const deadline = clock() + timing.maxDurationMs;
  let nextPingAt = clock() + timing.pingIntervalMs;
  let prefix = `retry: ${timing.retryMs}\n`;
  let ended = false;
  /** Set once the stream is over; calls onEnd exactly once. */
  const end = () => {
    if (ended) return;
    ended = true;
    onEnd?.();
  };
  let done = false;

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (done) return;
        let text: string;
        try {
          if (clock() >= deadline) {
            done = true;
            end();
            controller.close();
            return;
          }
          const event = await source.next(Math.min(nextPingAt, deadline));
          if (done) return;
          if (event.event === 'ping') nextPingAt = clock() + timing.pingIntervalMs;
          await beforeSend?.(event);
          text = formatEvent(event.event, data(event), event.id);
        } catch (error) {
          if (done) return;
          done = true;
          const problem = toRunnelError(error);
          onError?.(problem);
          controller.enqueue(encoder.encode(`${prefix}${formatEvent('error', problemBody(problem))}`));
          end();
          controller.close();
          return;
        }
        const bytes = encoder.encode(prefix + text);
        prefix = '';
        const fault = faults?.onEvent() ?? 'deliver';
        if (fault === 'deliver') return controller.enqueue(bytes);
        done = true;
        end();
        if (fault === 'end') {
          controller.enqueue(bytes);
          return controller.close();
        }
        if (fault === 'cut-inside') controller.enqueue(bytes.subarray(0, Math.max(1, bytes.length >> 1)));
        if (fault === 'cut-after') controller.enqueue(bytes);
        controller.error(new Error(`stream fault: ${fault}`));
      },
      cancel() {
        done = true;
        end();
      },
    },
    // No read-ahead: an event is produced only for a read that waits for it.
    { highWaterMark: 0 },
  );
};
