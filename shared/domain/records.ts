/** A record header: Kafka header keys are strings, values are bytes or null. */
export interface RecordHeader {
  key: string;
  value: Uint8Array | null;
}

/** A record as a producer sends it, after the wire encoding was decoded. */
export interface ProducedRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
  /** Producer timestamp (ms since epoch); absent means "use the append time". */
  timestamp: number | undefined;
}

/** A record as stored in a batch and returned by a fetch. */
export interface StoredRecord {
  offset: number;
  /** The producer's timestamp, or the append time when the producer gave none. */
  timestamp: number;
  /** When the broker appended it: retention counts from here (Kafka's LogAppendTime). */
  appendTime: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}

const utf8 = new TextEncoder();

/**
 * The size a record counts for against the record limit and `maxBytes`: key, value,
 * header keys and header values, after decoding. (Framing is not counted, so a limit
 * reads the same whatever the storage format.)
 */
export const recordSize = (record: Pick<ProducedRecord, 'key' | 'value' | 'headers'>): number => {
  let size = (record.key?.byteLength ?? 0) + (record.value?.byteLength ?? 0);
  for (const header of record.headers) {
    size += utf8.encode(header.key).byteLength + (header.value?.byteLength ?? 0);
  }
  return size;
};
