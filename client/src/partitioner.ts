/**
 * Kafka's default partitioner, bit for bit, so a key lands on the partition the server
 * (and Kafka's Java client, librdkafka's `murmur2_random` and kafkajs) would pick.
 */

/** Kafka's `Utils.murmur2` over the bytes: a signed 32-bit integer, exactly as Java computes it. */
export const murmur2 = (data: Uint8Array): number => {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k =
      (data[i4] as number) |
      ((data[i4 + 1] as number) << 8) |
      ((data[i4 + 2] as number) << 16) |
      ((data[i4 + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest === 3) h ^= (data[tail + 2] as number) << 16;
  if (rest >= 2) h ^= (data[tail + 1] as number) << 8;
  if (rest >= 1) {
    h ^= data[tail] as number;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
};

const encoder = new TextEncoder();

/** The bytes a key is hashed over: a string's UTF-8 encoding, or the bytes themselves. */
export const keyBytes = (key: string | Uint8Array): Uint8Array => (typeof key === 'string' ? encoder.encode(key) : key);

/**
 * The partition of a keyed record: `(murmur2(keyBytes) & 0x7fffffff) % partitions`, as the
 * server and Kafka's default partitioner compute it.
 */
export const partitionForKey = (key: string | Uint8Array, partitions: number): number =>
  (murmur2(keyBytes(key)) & 0x7fffffff) % partitions;
