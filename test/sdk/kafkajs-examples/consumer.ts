import { Kafka, logLevel } from '@runnel/client/kafkajs';

/** kafkajs's examples/consumer.js: a group consumer with eachMessage, printing what it gets. */
export const run = async (config: { url: string; apiKey: string; topic: string; expect: number }) => {
  const kafka = new Kafka({
    logLevel: logLevel.NOTHING,
    brokers: [config.url],
    clientId: 'example-consumer',
    sasl: { mechanism: 'plain', username: 'runnel', password: config.apiKey },
  });
  const topic = config.topic;
  const consumer = kafka.consumer({ groupId: 'test-group' });
  const events: string[] = [];
  consumer.on(consumer.events.GROUP_JOIN, (e) => events.push(e.type));
  consumer.on(consumer.events.COMMIT_OFFSETS, (e) => events.push(e.type));

  const received: {
    topic: string;
    partition: number;
    offset: string;
    timestamp: string;
    headers: Record<string, string>;
    key: string;
    value: string;
  }[] = [];
  let done!: () => void;
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      received.push({
        topic,
        partition,
        offset: message.offset,
        timestamp: message.timestamp,
        headers: Object.keys(message.headers).reduce(
          (headers, key) => ({
            // biome-ignore lint/performance/noAccumulatingSpread: kafkajs's example as written
            ...headers,
            [key]: String(message.headers[key]?.toString()),
          }),
          {},
        ),
        key: String(message.key?.toString()),
        value: String(message.value?.toString()),
      });
      if (received.length >= config.expect) done();
    },
  });
  await all;
  await consumer.disconnect();
  return { received, events };
};
