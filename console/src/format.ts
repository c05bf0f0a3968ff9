import type { Header, WireRecord } from './api';

/** A fetched payload for display: text when it is valid UTF-8, else base64. */
export interface Shown {
  text: string;
  binary: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const fromBase64 = (b64: string): Uint8Array => {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
};

export const decodePayload = (b64: string | null): Shown | null => {
  if (b64 === null) return null;
  try {
    return { text: utf8.decode(fromBase64(b64)), binary: false };
  } catch {
    return { text: b64, binary: true };
  }
};

/** JSON is pretty-printed; anything else is shown as it is. */
export const pretty = (text: string): string => {
  const t = text.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return text;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return text;
  }
};

export interface Message {
  partition: number;
  offset: number;
  timestamp: number;
  key: Shown | null;
  value: Shown | null;
  headers: { key: string; value: Shown | null }[];
  /** Lower-cased key, value and headers, for the filter. */
  haystack: string;
}

export const toMessage = (partition: number, r: WireRecord): Message => {
  const key = decodePayload(r.key);
  const value = decodePayload(r.value);
  const headers = (r.headers ?? []).map((h: Header) => ({ key: h.key, value: decodePayload(h.value) }));
  const haystack = [key?.text ?? '', value?.text ?? '', ...headers.map((h) => `${h.key}=${h.value?.text ?? ''}`)]
    .join('\n')
    .toLowerCase();
  return {
    partition: r.partition ?? partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key,
    value,
    headers,
    haystack,
  };
};

/** One JSON Lines line per message, as shown (text or base64, with the encoding said). */
export const toJsonLine = (m: Message): string =>
  JSON.stringify({
    partition: m.partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: m.key?.text ?? null,
    value: m.value?.text ?? null,
    headers: m.headers.map((h) => ({ key: h.key, value: h.value?.text ?? null })),
    ...(m.key?.binary || m.value?.binary || m.headers.some((h) => h.value?.binary) ? { binary: 'base64' } : {}),
  });

export const formatTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');

export const formatBytes = (n: number | undefined) => {
  if (n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
};

const DAY = 86_400_000;
export const formatRetention = (ms: number) => {
  if (ms === -1) return 'forever';
  if (ms % DAY === 0) return `${ms / DAY}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms}ms`;
};

/** "7d", "12h", "30m", "5000ms", a bare number of ms, or "-1"/"forever". */
export const parseRetention = (input: string): number | undefined => {
  const t = input.trim().toLowerCase();
  if (t === '') return undefined;
  if (t === '-1' || t === 'forever') return -1;
  const m = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(t);
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY }[(m[2] ?? 'ms') as 'ms'];
  return n * unit;
};
