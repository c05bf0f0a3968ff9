import { checkOption, RunnelError } from './errors';

/** The `fetch` the SDK calls: the global one by default, or any compatible function (tests, proxies, Workers bindings). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Options of the connection shared by every part of the SDK. */
export interface ConnectionOptions {
  /** The service's base URL, e.g. `http://127.0.0.1:8080` or your deployment's API URL. */
  url: string;
  /** A tenant API key (or the operator key for tenant administration). Sent as a bearer token. */
  apiKey?: string;
  /** A read-only browser token from `POST /v1/tokens`; use instead of `apiKey`. */
  token?: string;
  /** The `fetch` to use. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Milliseconds before a single HTTP request is abandoned (long polls add their wait). @default 30000 */
  requestTimeoutMs?: number;
  /**
   * Where Server-Sent Event streams are served: in AWS the stack's `StreamUrl` output
   * (API Gateway does not stream), locally the same URL as `url`. With it, a
   * {@link Reader} follows partitions over one stream each instead of long polls.
   * @default none (readers long-poll)
   */
  streamUrl?: string;
}

/** One HTTP request's options. */
export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  /** A JSON body: an object is serialised, a string is sent as is (a retry sends identical bytes). */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Added to the request timeout (a long poll's `waitMs`). */
  extraTimeoutMs?: number;
}

/** A parsed response. */
export interface HttpResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** Thin JSON-over-HTTP layer: auth header, timeouts, problem documents → {@link RunnelError}. */
export class Transport {
  readonly baseUrl: string;
  /** The stream endpoint, if configured. */
  readonly streamUrl: string | undefined;
  readonly requestTimeoutMs: number;
  private readonly authorization: string | undefined;
  private readonly fetchFn: FetchLike;

  constructor(options: ConnectionOptions) {
    checkOption(typeof options?.url === 'string' && /^https?:\/\//.test(options.url), 'url must be an http(s) URL.');
    checkOption(!(options.apiKey && options.token), 'give apiKey or token, not both.');
    checkOption(
      options.apiKey === undefined || (typeof options.apiKey === 'string' && options.apiKey.length > 0),
      'apiKey must be a non-empty string.',
    );
    checkOption(
      options.token === undefined || (typeof options.token === 'string' && options.token.length > 0),
      'token must be a non-empty string.',
    );
    const timeout = options.requestTimeoutMs ?? 30_000;
    checkOption(Number.isInteger(timeout) && timeout > 0, 'requestTimeoutMs must be a positive integer.');
    const fetchFn = options.fetch ?? (globalThis.fetch as FetchLike | undefined);
    checkOption(typeof fetchFn === 'function', 'no global fetch here: pass options.fetch.');
    this.baseUrl = options.url.replace(/\/+$/, '');
    checkOption(
      options.streamUrl === undefined || /^https?:\/\//.test(options.streamUrl),
      'streamUrl must be an http(s) URL.',
    );
    this.streamUrl = options.streamUrl?.replace(/\/+$/, '');
    this.requestTimeoutMs = timeout;
    const secret = options.apiKey ?? options.token;
    this.authorization = secret ? `Bearer ${secret}` : undefined;
    // Unbound global fetch throws "Illegal invocation" in browsers.
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** Performs one request (no retries) and parses JSON; a non-2xx answer throws a {@link RunnelError}. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    let url = `${this.baseUrl}${path}`;
    if (options.query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(options.query)) if (v !== undefined) params.set(k, String(v));
      const qs = params.toString();
      if (qs) url += `?${qs}`;
    }
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.authorization) headers.authorization = this.authorization;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    }
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new RunnelError('timeout', 0, `${method} ${path} timed out.`)),
      this.requestTimeoutMs + (options.extraTimeoutMs ?? 0),
    );
    const outer = options.signal;
    const onAbort = () => timeout.abort(outer?.reason);
    if (outer) {
      if (outer.aborted) onAbort();
      else outer.addEventListener('abort', onAbort, { once: true });
    }
    let response: Response;
    try {
      response = await this.fetchFn(url, { method, headers, body, signal: timeout.signal });
    } catch (error) {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
      throw toNetworkError(error, method, path, outer);
    }
    try {
      const text = await response.text();
      let parsed: unknown;
      if (text) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
      }
      if (!response.ok) throw RunnelError.fromResponse(response, parsed);
      return { status: response.status, headers: response.headers, body: parsed as T };
    } catch (error) {
      if (error instanceof RunnelError) throw error;
      throw toNetworkError(error, method, path, outer);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Opens a Server-Sent Events stream on the stream endpoint (or the base URL): the body
   * once the status is known; a problem answer throws {@link RunnelError}. The body is the
   * caller's to read; aborting `signal` ends it.
   */
  async stream(
    path: string,
    query: Record<string, string | number | undefined>,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const url = `${this.streamUrl ?? this.baseUrl}${path}?${params}`;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.authorization) headers.authorization = this.authorization;
    let response: Response;
    try {
      response = await this.fetchFn(url, { method: 'GET', headers, signal });
    } catch (error) {
      throw toNetworkError(error, 'GET', path, signal);
    }
    if (!response.ok || !response.body) {
      const text = await response.text().catch(() => '');
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {}
      throw RunnelError.fromResponse(response, parsed);
    }
    return response.body;
  }
}

const toNetworkError = (error: unknown, method: string, path: string, outer: AbortSignal | undefined) => {
  if (error instanceof RunnelError) return error;
  if (outer?.aborted) {
    const reason = outer.reason;
    if (reason instanceof RunnelError) return reason;
    return new RunnelError('aborted', 0, `${method} ${path} was aborted.`, { cause: reason, retriable: false });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new RunnelError('network', 0, `${method} ${path} failed: ${message}`, { cause: error });
};

/** Backoff between retries. */
export interface BackoffOptions {
  /** First delay's ceiling in milliseconds. @default 100 */
  initialMs?: number;
  /** Largest delay in milliseconds. @default 5000 */
  maxMs?: number;
}

/**
 * Exponential backoff with full jitter (a uniform draw below `initialMs·2^attempt`, capped);
 * a server's `Retry-After` is a floor, with up to 20 % of jitter on top so that callers
 * told the same thing do not all come back at once.
 */
export const backoffDelay = (
  attempt: number,
  { initialMs = 100, maxMs = 5000 }: BackoffOptions = {},
  retryAfterMs?: number,
  random: () => number = Math.random,
): number => {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  const jittered = random() * ceiling;
  if (retryAfterMs === undefined) return jittered;
  return retryAfterMs + random() * Math.min(retryAfterMs * 0.2, maxMs);
};

/** Resolves after `ms`, or rejects when `signal` aborts. */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Percent-encodes one path segment. */
export const seg = (s: string | number): string => encodeURIComponent(String(s));
