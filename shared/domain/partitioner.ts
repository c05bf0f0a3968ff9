/**
 * Kafka's default partitioner, bit for bit: murmur2 over the key bytes, sign bit
 * cleared, modulo the partition count. The same key lands on the same partition as
 * with Kafka's own Java, librdkafka (`murmur2_random`) and KafkaJS (`DefaultPartitioner`)
 * clients, so a workload can move between Runnel and Kafka without reshuffling keys.
 */

/** Kafka's `Utils.murmur2`: returns a signed 32-bit integer, exactly as Java does. */
export const murmur2 = (data: Uint8Array): number => {
  const length = data.length;
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  let h = (seed ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k =
      (data[i4] as number) |
      ((data[i4 + 1] as number) << 8) |
      ((data[i4 + 2] as number) << 16) |
      ((data[i4 + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  switch (length % 4) {
    // biome-ignore lint/suspicious/noFallthroughSwitchClause: Kafka's murmur2 falls through on purpose
    case 3:
      h ^= (data[tail + 2] as number) << 16;
    // biome-ignore lint/suspicious/noFallthroughSwitchClause: as above
    case 2:
      h ^= (data[tail + 1] as number) << 8;
    case 1:
      h ^= data[tail] as number;
      h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
};

/** `Utils.toPositive(murmur2(key)) % numPartitions`, Kafka's choice for a keyed record. */
export const partitionForKey = (key: Uint8Array, partitions: number): number =>
  (murmur2(key) & 0x7fffffff) % partitions;
