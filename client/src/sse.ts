import { toConsumed, type WireFetched } from './client';
import { RunnelError } from './errors';
import type { Transport } from './http';
import type { PartitionSource } from './reader';
import type { Encoding, FetchResult } from './types';

/** One Server-Sent Event: its type, data and id (the stream's position after it). */
interface StreamEvent {
  event: string;
  data: string;
  id: string | undefined;
}

/** Parses an SSE byte stream into events (the spec's rules for the fields Runnel sends). */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  let id: string | undefined;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let newline = buffer.search(/\r\n|\r|\n/);
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
        if (line === '') {
          // A blank line dispatches; an event cut before it is never seen (and so not counted).
          if (data.length > 0) yield { event, data: data.join('\n'), id };
          event = 'message';
          data = [];
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
          if (field === 'event') event = text;
          else if (field === 'data') data.push(text);
          else if (field === 'id') id = text;
        }
        newline = buffer.search(/\r\n|\r|\n/);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

interface OpenStream {
  /** The next offset after the last event taken. */
  position: number | 'earliest' | 'latest';
  events: AsyncGenerator<StreamEvent>;
  abort: AbortController;
}

/**
 * A {@link PartitionSource} that follows each partition over one Server-Sent Events
 * stream instead of a long poll per batch. Each event's id is the partition's next
 * offset, so a stream that ends (the server's time limit, a dropped connection) is
 * reopened exactly where the last whole event left off.
 */
export class SsePartitionSource implements PartitionSource {
  private readonly open = new Map<number, OpenStream>();

  constructor(
    private readonly transport: Transport,
    private readonly topic: string,
    private readonly options: {
      maxRecords?: number | undefined;
      maxBytes?: number | undefined;
      encoding?: Encoding | undefined;
    },
  ) {}

  async next(partition: number, offset: number | 'earliest' | 'latest', signal: AbortSignal): Promise<FetchResult> {
    let stream = this.open.get(partition);
    // The reader asks for another position (a seek, a reset after retention): start over.
    if (stream && stream.position !== offset) {
      stream.abort.abort();
      stream = undefined;
    }
    for (;;) {
      if (!stream) {
        stream = await this.connect(partition, offset, signal);
        this.open.set(partition, stream);
      }
      let item: IteratorResult<StreamEvent>;
      try {
        item = await stream.events.next();
      } catch (error) {
        this.open.delete(partition);
        if (signal.aborted) throw error;
        const message = error instanceof Error ? error.message : String(error);
        throw new RunnelError('network', 0, `The stream of partition ${partition} broke: ${message}`, { cause: error });
      }
      if (item.done) {
        // A clean end (the server's time limit): continue from the last position.
        offset = stream.position;
        stream = undefined;
        continue;
      }
      const { event, data, id } = item.value;
      if (event === 'error') {
        this.open.delete(partition);
        const problem = JSON.parse(data);
        throw new RunnelError(problem.code ?? 'internal', problem.status ?? 0, problem.detail ?? 'The stream failed.', {
          problem,
        });
      }
      if (id !== undefined && /^\d+$/.test(id)) stream.position = Number(id);
      if (event === 'records') {
        const body = JSON.parse(data) as Omit<FetchResult, 'records'> & { records: WireFetched[] };
        return { ...body, records: body.records.map((r) => toConsumed(r, this.topic, partition)) };
      }
      if (event === 'ping' && typeof stream.position === 'number') {
        const { highWatermark } = JSON.parse(data) as { highWatermark: number };
        // Nothing new: tells the reader where it stands (a `latest` start resolves here).
        return { records: [], nextOffset: stream.position, highWatermark, logStartOffset: 0 };
      }
    }
  }

  private async connect(partition: number, offset: number | 'earliest' | 'latest', signal: AbortSignal) {
    const abort = new AbortController();
    const onAbort = () => abort.abort(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    const body = await this.transport.stream(
      `/v1/topics/${encodeURIComponent(this.topic)}/partitions/${partition}/records`,
      {
        offset,
        maxRecords: this.options.maxRecords,
        maxBytes: this.options.maxBytes,
        encoding: this.options.encoding,
      },
      abort.signal,
    );
    return { position: offset, events: sseEvents(body), abort };
  }
}
