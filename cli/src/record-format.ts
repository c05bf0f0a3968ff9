import { UsageError } from './errors';

/** A consumed record as the formatter sees it: key, value and header values as bytes. */
export interface FormattableRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: { key: string; value: Uint8Array | null }[];
}

type Part = Uint8Array | ((record: FormattableRecord) => Uint8Array);

const utf8 = new TextEncoder();
const text = (value: string) => utf8.encode(value);
const EMPTY = new Uint8Array(0);

const FIELDS: Record<string, (record: FormattableRecord) => Uint8Array> = {
  t: (r) => text(r.topic),
  p: (r) => text(String(r.partition)),
  o: (r) => text(String(r.offset)),
  T: (r) => text(String(r.timestamp)),
  k: (r) => r.key ?? EMPTY,
  K: (r) => text(r.key === null ? '-1' : String(r.key.length)),
  // kcat calls the value %s; %v is the name most people guess first.
  s: (r) => r.value ?? EMPTY,
  v: (r) => r.value ?? EMPTY,
  S: (r) => text(r.value === null ? '-1' : String(r.value.length)),
  h: (r) => concat(r.headers.flatMap((h, i) => [text(`${i ? ',' : ''}${h.key}=`), h.value ?? EMPTY])),
};

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', '0': '\0' };

/**
 * Compiles a kcat format string (`-f`) into a function from a record to the bytes to
 * print. Tokens: `%t` topic, `%p` partition, `%o` offset, `%T` timestamp (ms), `%k` key,
 * `%K` key length, `%s`/`%v` value, `%S` value length, `%h` headers (`k=v,k2=v2`), `%%`;
 * escapes `\n \r \t \\ \0 \xNN`. Keys and values are written as their raw bytes, so
 * `-f '%s'` reproduces binary values exactly, with nothing appended.
 */
export const compileFormat = (format: string): ((record: FormattableRecord) => Uint8Array) => {
  const parts: Part[] = [];
  let literal = '';
  const flush = () => {
    if (literal) parts.push(text(literal));
    literal = '';
  };
  for (let i = 0; i < format.length; i++) {
    const char = format[i];
    const next = format[i + 1];
    if (char === '%') {
      if (next === '%') {
        literal += '%';
      } else if (next !== undefined && FIELDS[next]) {
        flush();
        parts.push(FIELDS[next]);
      } else {
        throw new UsageError(`unknown format token "%${next ?? ''}" (use %t %p %o %T %k %K %s %v %S %h %%)`);
      }
      i++;
    } else if (char === '\\') {
      if (next === 'x') {
        const hex = format.slice(i + 2, i + 4);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new UsageError(`bad escape "\\x${hex}" in format (use \\xNN)`);
        flush();
        parts.push(Uint8Array.of(Number.parseInt(hex, 16)));
        i += 3;
      } else if (next !== undefined && ESCAPES[next] !== undefined) {
        literal += ESCAPES[next];
        i++;
      } else {
        throw new UsageError(`unknown escape "\\${next ?? ''}" in format (use \\n \\r \\t \\\\ \\0 \\xNN)`);
      }
    } else {
      literal += char;
    }
  }
  flush();
  return (record) => concat(parts.map((part) => (typeof part === 'function' ? part(record) : part)));
};

/** Kafka's and kcat's delimiter syntax for `-K`: a string with `\t`, `\n`, `\xNN` escapes. */
export const parseDelimiter = (spec: string): Uint8Array => {
  const bytes = compileFormat(spec.replaceAll('%', '%%'))({
    topic: '',
    partition: 0,
    offset: 0,
    timestamp: 0,
    key: null,
    value: null,
    headers: [],
  });
  if (bytes.length === 0) throw new UsageError('the key delimiter must not be empty');
  return bytes;
};

export const concat = (chunks: Uint8Array[]): Uint8Array => {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
};
