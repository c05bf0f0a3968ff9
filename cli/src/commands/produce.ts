import type { Header, Producer, ProducerRecord } from '@runnel/client';
import { type Command, Option } from 'commander';
import { collectHeader, nonNegativeInt, resourceName } from '../arguments';
import { contextOf } from '../context';
import { CommandError, UsageError } from '../errors';
import { indexOf, splitLines } from '../lines';
import { ProgressLine } from '../progress';
import { parseDelimiter } from '../record-format';

type Format = 'text' | 'json' | 'base64';

interface ProduceOptions {
  keyDelimiter?: string;
  header?: { key: string; value: string }[];
  partition?: number;
  format: Format;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Text stays text on the wire (smaller requests); bytes that are not UTF-8 go as bytes. */
const textOrBytes = (bytes: Uint8Array): string | Uint8Array => {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return bytes;
  }
};

const fromBase64 = (bytes: Uint8Array, line: number, what: string): Uint8Array => {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1').trim();
  if (text.length % 4 !== 0 || !BASE64.test(text)) throw new UsageError(`line ${line}: the ${what} is not base64`);
  return new Uint8Array(Buffer.from(text, 'base64'));
};

interface JsonLine {
  key?: unknown;
  value?: unknown;
  headers?: unknown;
  partition?: unknown;
  timestamp?: unknown;
}

const jsonRecord = (bytes: Uint8Array, line: number): Omit<ProducerRecord, 'topic'> => {
  let parsed: JsonLine;
  try {
    parsed = JSON.parse(strictUtf8.decode(bytes)) as JsonLine;
  } catch {
    throw new UsageError(`line ${line}: not a JSON object`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new UsageError(`line ${line}: not a JSON object`);
  const data = (v: unknown, what: string) => {
    if (v === undefined || v === null || typeof v === 'string') return v ?? null;
    // Anything else (an object, a number) is sent as its JSON text, as a user piping JSON expects.
    if (what === 'value') return JSON.stringify(v);
    throw new UsageError(`line ${line}: "${what}" must be a string or null`);
  };
  const headers: Header[] = [];
  if (Array.isArray(parsed.headers)) {
    for (const h of parsed.headers as { key?: unknown; value?: unknown }[]) {
      if (!h || typeof h.key !== 'string') throw new UsageError(`line ${line}: headers are [{"key", "value"}]`);
      headers.push({ key: h.key, value: data(h.value, 'header value') });
    }
  } else if (parsed.headers && typeof parsed.headers === 'object') {
    for (const [key, value] of Object.entries(parsed.headers))
      headers.push({ key, value: data(value, 'header value') });
  } else if (parsed.headers !== undefined && parsed.headers !== null) {
    throw new UsageError(`line ${line}: headers are [{"key", "value"}] or {"key": "value"}`);
  }
  const int = (v: unknown, what: string) => {
    if (v === undefined || v === null) return undefined;
    if (!Number.isSafeInteger(v) || (v as number) < 0)
      throw new UsageError(`line ${line}: "${what}" must be a whole number`);
    return v as number;
  };
  const partition = int(parsed.partition, 'partition');
  const timestamp = int(parsed.timestamp, 'timestamp');
  return {
    key: data(parsed.key, 'key'),
    value: data(parsed.value, 'value'),
    ...(headers.length ? { headers } : {}),
    ...(partition === undefined ? {} : { partition }),
    ...(timestamp === undefined ? {} : { timestamp }),
  };
};

/** Builds the record of one stdin line (without its newline). */
export const lineToRecord = (
  bytes: Uint8Array,
  line: number,
  format: Format,
  delimiter: Uint8Array | undefined,
): Omit<ProducerRecord, 'topic'> => {
  if (format === 'json') return jsonRecord(bytes, line);
  const decode = (part: Uint8Array, what: string) =>
    format === 'base64' ? fromBase64(part, line, what) : textOrBytes(part);
  if (delimiter) {
    const at = indexOf(bytes, delimiter);
    // kcat's rule: a line without the delimiter is a value without a key.
    if (at >= 0) {
      return {
        key: decode(bytes.subarray(0, at), 'key'),
        value: decode(bytes.subarray(at + delimiter.length), 'value'),
      };
    }
  }
  return { key: null, value: decode(bytes, 'value') };
};

export const registerProduce = (program: Command) => {
  program
    .command('produce')
    .description('produce one record per line of stdin, batched (about one request per MiB)')
    .argument('<topic>', 'topic to produce to', resourceName)
    .option('-K, --key-delimiter <delim>', 'each line is KEY<delim>VALUE (escapes: \\t, \\xNN)')
    .option('-H, --header <key=value>', 'a header on every record (repeatable)', collectHeader)
    .option('-p, --partition <n>', 'produce every record to this partition', nonNegativeInt)
    .addOption(
      new Option('--format <format>', 'how to read each line: text, json ({"key","value","headers"}) or base64')
        .choices(['text', 'json', 'base64'])
        .default('text'),
    )
    .addHelpText(
      'after',
      `
Every record must be acknowledged for exit status 0; a summary goes to stderr.

Examples:
  $ seq 1 1000 | runnel produce numbers
  $ printf 'user-1:created\\nuser-2:deleted\\n' | runnel produce orders -K :
  $ runnel produce orders --format json < orders.jsonl
  $ base64 -w 76 photo.jpg | runnel produce blobs -p 0 --format base64
  $ echo hi | runnel produce logs -H source=cli -H env=dev`,
    )
    .action(async (topic: string, options: ProduceOptions, command: Command) => {
      const { out, client, requests } = contextOf(command);
      const delimiter = options.keyDelimiter !== undefined ? parseDelimiter(options.keyDelimiter) : undefined;
      const headers = options.header ?? [];
      const runnel = client();
      const producer = runnel.producer();
      const progress = new ProgressLine(out, 'produced');
      const started = performance.now();
      let lines = 0;
      let bytesIn = 0;
      let acked = 0;
      let failed = 0;
      let firstError: unknown;
      let settled = 0;
      let allSettled: (() => void) | undefined;
      const onSettled = () => {
        settled++;
        progress.update(acked, bytesIn);
        if (settled === lines && allSettled) allSettled();
      };
      let inputError: unknown;
      try {
        for await (const line of splitLines(process.stdin)) {
          lines++;
          bytesIn += line.length + 1;
          const record = lineToRecord(line, lines, options.format, delimiter);
          const full: ProducerRecord = {
            topic,
            ...record,
            ...(headers.length ? { headers: [...headers, ...(record.headers ?? [])] } : {}),
            ...(options.partition === undefined ? {} : { partition: options.partition }),
          };
          const pending = await producer.append(full);
          pending.acked.then(
            () => {
              acked++;
              onSettled();
            },
            (error: unknown) => {
              failed++;
              firstError ??= error;
              onSettled();
            },
          );
          if (firstError) break;
        }
      } catch (error) {
        inputError = error;
      }
      await closeQuietly(producer);
      if (settled < lines) await new Promise<void>((resolve) => (allSettled = resolve));
      progress.done();
      const seconds = (performance.now() - started) / 1000;
      const summary = {
        topic,
        records: lines,
        acknowledged: acked,
        failed: failed + (lines - settled),
        bytes: bytesIn,
        requests: requests(),
        seconds: Number(seconds.toFixed(3)),
      };
      if (out.json) out.writeJson(summary);
      else {
        out.note(
          `${acked} of ${lines} record${lines === 1 ? '' : 's'} acknowledged on ${topic} (${formatBytes(bytesIn)} in ${summary.requests} request${summary.requests === 1 ? '' : 's'}, ${seconds.toFixed(2)} s)`,
        );
      }
      if (inputError) throw inputError;
      if (firstError) throw firstError;
      if (acked !== lines) throw new CommandError(`${lines - acked} records were not acknowledged`);
    });
};

const closeQuietly = async (producer: Producer) => {
  try {
    await producer.close();
  } catch {
    // Failures surface through each record's acked promise.
  }
};

export const formatBytes = (bytes: number): string =>
  bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MiB`
    : bytes >= 1024
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${bytes} B`;
