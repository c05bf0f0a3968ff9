/*
 * What the OpenAPI document says of streams, shared by the fetch route (loaded at start)
 * and the stream routes (routes/streams.ts, loaded on the first stream).
 */

/** Stream routes take an API key, or a browser token in `Authorization` or `?access_token=`. */
export const STREAM_SECURITY: Record<string, string[]>[] = [{ apiKey: [] }, { accessToken: [] }];

export const PARTITION_STREAM_DESCRIPTION =
  'With `Accept: text/event-stream`: `records` events (data: the fetch response; id: its `nextOffset`), a ' +
  '`ping` event at least every 15 s (data: `{"highWatermark"}`; id: the position), and an `error` event ' +
  '(problem details) that ends the stream. The server also ends a healthy stream after a time limit (at least ' +
  '60 s). A reconnect with `Last-Event-ID` continues at that offset (it wins over `offset`).';
