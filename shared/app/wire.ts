import { invalidRequest } from '#shared/domain/errors';
import type { ProducedRecord, RecordHeader, StoredRecord } from '#shared/domain/records';

export type Encoding = 'utf8' | 'base64';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const encoder = new TextEncoder();

/** Decodes a JSON string field to bytes; base64 is checked strictly (no silent garbage). */
export const decodeField = (value: string | null | undefined, encoding: Encoding, path: string): Uint8Array | null => {
  if (value === null || value === undefined) return null;
  if (encoding === 'utf8') return encoder.encode(value);
  if (!BASE64.test(value))
    throw invalidRequest(`${path} is not valid base64.`, [{ path, message: 'not valid base64' }]);
  return new Uint8Array(Buffer.from(value, 'base64'));
};

export const encodeField = (bytes: Uint8Array | null, encoding: Encoding): string | null => {
  if (bytes === null) return null;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return encoding === 'base64' ? buf.toString('base64') : buf.toString('utf8');
};

export interface WireRecord {
  key?: string | null | undefined;
  value?: string | null | undefined;
  headers?: { key: string; value: string | null }[] | undefined;
  partition?: number | undefined;
  timestamp?: number | undefined;
}

export const decodeRecord = (
  record: WireRecord,
  encoding: Encoding,
  index: number,
): ProducedRecord & { partition: number | undefined } => ({
  key: decodeField(record.key, encoding, `records[${index}].key`),
  value: decodeField(record.value, encoding, `records[${index}].value`),
  headers: (record.headers ?? []).map(
    (h, j): RecordHeader => ({
      key: h.key,
      value: decodeField(h.value, encoding, `records[${index}].headers[${j}].value`),
    }),
  ),
  timestamp: record.timestamp,
  partition: record.partition,
});

export const encodeRecord = (record: StoredRecord, encoding: Encoding) => ({
  offset: record.offset,
  timestamp: record.timestamp,
  key: encodeField(record.key, encoding),
  value: encodeField(record.value, encoding),
  headers: record.headers.map((h) => ({ key: h.key, value: encodeField(h.value, encoding) })),
});
