import { crc32 } from 'node:zlib';
import type { ProducedRecord, RecordHeader, StoredRecord } from './records';

/**
 * The batch format: one batch holds one produce request's records for one partition.
 * A segment object in S3 is a concatenation of batches; an index entry points at a byte
 * range holding one or more consecutive batches (one after produce, many after
 * compaction). Offsets are not stored: the index entry holds the base offset and records
 * follow densely, so the batch can be written before DynamoDB has assigned its offsets.
 *
 * Batch header (24 bytes, little endian):
 *   0  u8   magic 0x52 ('R')
 *   1  u8   version (1)
 *   2  u16  reserved (0)
 *   4  u32  record count
 *   8  f64  append time, ms since epoch; 0 = "the index entry's append time"
 *   16 u32  body length in bytes
 *   20 u32  CRC-32 of the body
 * Record:
 *   f64 timestamp (-1 = append time), i32 key length (-1 = null), key,
 *   i32 value length (-1 = null), value, u16 header count,
 *   per header: u16 key length, key (UTF-8), i32 value length (-1 = null), value.
 */
export const BATCH_MAGIC = 0x52;
export const BATCH_VERSION = 1;
export const BATCH_HEADER_BYTES = 24;
const LOG_APPEND_TIME = -1;

export class CorruptBatchError extends Error {
  constructor(detail: string) {
    super(`Corrupt record batch: ${detail}`);
    this.name = 'CorruptBatchError';
  }
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

const encodedRecordSize = (record: ProducedRecord, headerKeys: Uint8Array[]): number => {
  let size = 8 + 4 + (record.key?.byteLength ?? 0) + 4 + (record.value?.byteLength ?? 0) + 2;
  record.headers.forEach((header, i) => {
    size += 2 + (headerKeys[i] as Uint8Array).byteLength + 4 + (header.value?.byteLength ?? 0);
  });
  return size;
};

/**
 * Encodes one batch. `appendTime` is 0 for a fresh produce (the index entry holds it)
 * and set by compaction, which folds batches of different append times together.
 */
export const encodeBatch = (records: readonly ProducedRecord[], appendTime = 0): Buffer => {
  const headerKeys = records.map((r) => r.headers.map((h) => utf8Encoder.encode(h.key)));
  let bodyLength = 0;
  records.forEach((r, i) => {
    bodyLength += encodedRecordSize(r, headerKeys[i] as Uint8Array[]);
  });
  const buf = Buffer.allocUnsafe(BATCH_HEADER_BYTES + bodyLength);
  buf.writeUInt8(BATCH_MAGIC, 0);
  buf.writeUInt8(BATCH_VERSION, 1);
  buf.writeUInt16LE(0, 2);
  buf.writeUInt32LE(records.length, 4);
  buf.writeDoubleLE(appendTime, 8);
  buf.writeUInt32LE(bodyLength, 16);
  let at = BATCH_HEADER_BYTES;
  const writeBytes = (bytes: Uint8Array | null, lengthBytes: 4) => {
    if (bytes === null) {
      buf.writeInt32LE(-1, at);
      at += lengthBytes;
      return;
    }
    buf.writeInt32LE(bytes.byteLength, at);
    at += lengthBytes;
    buf.set(bytes, at);
    at += bytes.byteLength;
  };
  records.forEach((record, i) => {
    buf.writeDoubleLE(record.timestamp ?? LOG_APPEND_TIME, at);
    at += 8;
    writeBytes(record.key, 4);
    writeBytes(record.value, 4);
    buf.writeUInt16LE(record.headers.length, at);
    at += 2;
    const keys = headerKeys[i] as Uint8Array[];
    record.headers.forEach((header, j) => {
      const key = keys[j] as Uint8Array;
      buf.writeUInt16LE(key.byteLength, at);
      at += 2;
      buf.set(key, at);
      at += key.byteLength;
      writeBytes(header.value, 4);
    });
  });
  buf.writeUInt32LE(crc32(buf.subarray(BATCH_HEADER_BYTES)), 20);
  return buf;
};

export interface DecodeContext {
  /** Offset of the first record in `bytes`. */
  baseOffset: number;
  /** The index entry's append time, used where a batch header says 0. */
  appendTime: number;
}

/**
 * Decodes every batch in `bytes` (one or more, back to back). Checks magic, version,
 * lengths and CRC: a damaged object is reported, never returned as records.
 */
export const decodeBatches = (bytes: Uint8Array, context: DecodeContext): StoredRecord[] => {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: StoredRecord[] = [];
  let offset = context.baseOffset;
  let at = 0;
  while (at < buf.byteLength) {
    if (buf.byteLength - at < BATCH_HEADER_BYTES) throw new CorruptBatchError('truncated header');
    if (buf.readUInt8(at) !== BATCH_MAGIC) throw new CorruptBatchError('bad magic');
    if (buf.readUInt8(at + 1) !== BATCH_VERSION) throw new CorruptBatchError('unknown version');
    const count = buf.readUInt32LE(at + 4);
    const headerAppendTime = buf.readDoubleLE(at + 8);
    const bodyLength = buf.readUInt32LE(at + 16);
    const expectedCrc = buf.readUInt32LE(at + 20);
    const bodyStart = at + BATCH_HEADER_BYTES;
    const bodyEnd = bodyStart + bodyLength;
    if (bodyEnd > buf.byteLength) throw new CorruptBatchError('truncated body');
    const body = buf.subarray(bodyStart, bodyEnd);
    if (crc32(body) !== expectedCrc) throw new CorruptBatchError('CRC mismatch');
    const appendTime = headerAppendTime === 0 ? context.appendTime : headerAppendTime;
    let p = 0;
    const need = (n: number) => {
      if (p + n > body.byteLength) throw new CorruptBatchError('record overruns its batch');
    };
    const readBytes = (): Uint8Array | null => {
      need(4);
      const length = body.readInt32LE(p);
      p += 4;
      if (length === -1) return null;
      if (length < 0) throw new CorruptBatchError('negative length');
      need(length);
      // Copy out: callers may keep records longer than the (cached) segment buffer.
      const out = new Uint8Array(body.subarray(p, p + length));
      p += length;
      return out;
    };
    for (let i = 0; i < count; i++) {
      need(8);
      const timestamp = body.readDoubleLE(p);
      p += 8;
      const key = readBytes();
      const value = readBytes();
      need(2);
      const headerCount = body.readUInt16LE(p);
      p += 2;
      const headers: RecordHeader[] = [];
      for (let j = 0; j < headerCount; j++) {
        need(2);
        const keyLength = body.readUInt16LE(p);
        p += 2;
        need(keyLength);
        const headerKey = utf8Decoder.decode(body.subarray(p, p + keyLength));
        p += keyLength;
        headers.push({ key: headerKey, value: readBytes() });
      }
      records.push({
        offset,
        timestamp: timestamp === LOG_APPEND_TIME ? appendTime : timestamp,
        appendTime,
        key,
        value,
        headers,
      });
      offset += 1;
    }
    if (p !== body.byteLength) throw new CorruptBatchError('trailing bytes in batch');
    at = bodyEnd;
  }
  return records;
};

export interface BatchHeader {
  /** Where the batch starts in the bytes walked. */
  byteOffset: number;
  /** Header and body. */
  byteLength: number;
  recordCount: number;
  /** 0 = "the index entry's append time". */
  appendTime: number;
}

/** The headers of the back-to-back batches in `bytes`, without decoding records (compaction's view). */
export const readBatchHeaders = (bytes: Uint8Array): BatchHeader[] => {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headers: BatchHeader[] = [];
  let at = 0;
  while (at < buf.byteLength) {
    if (buf.byteLength - at < BATCH_HEADER_BYTES) throw new CorruptBatchError('truncated header');
    if (buf.readUInt8(at) !== BATCH_MAGIC) throw new CorruptBatchError('bad magic');
    const byteLength = BATCH_HEADER_BYTES + buf.readUInt32LE(at + 16);
    if (at + byteLength > buf.byteLength) throw new CorruptBatchError('truncated body');
    headers.push({
      byteOffset: at,
      byteLength,
      recordCount: buf.readUInt32LE(at + 4),
      appendTime: buf.readDoubleLE(at + 8),
    });
    at += byteLength;
  }
  return headers;
};

/**
 * A copy of `bytes` in which every batch whose header leaves the append time to the
 * index entry (0) carries `appendTime` itself, so the batch keeps its append time when
 * compaction folds it into an entry of another append time. The CRC covers the body
 * only, so no record is re-encoded.
 */
export const stampAppendTime = (bytes: Uint8Array, appendTime: number): Buffer => {
  const out = Buffer.from(bytes);
  for (const header of readBatchHeaders(out)) {
    if (header.appendTime === 0) out.writeDoubleLE(appendTime, header.byteOffset + 8);
  }
  return out;
};
