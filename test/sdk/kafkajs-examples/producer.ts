import { CompressionTypes, Kafka, logLevel, type RecordMetadata } from '@runnel/client/kafkajs';

/** kafkajs's examples/producer.js: keyed messages with headers, sent in requests of random size. */
export const run = async (config: { url: string; apiKey: string; topic: string; requests: number }) => {
  const kafka = new Kafka({
    logLevel: logLevel.NOTHING,
    brokers: [config.url],
    clientId: 'example-producer',
    sasl: { mechanism: 'plain', username: 'runnel', password: config.apiKey },
  });
  const topic = config.topic;
  const producer = kafka.producer();

  const getRandomNumber = () => Math.round(Math.random() * 1000);
  const createMessage = (num: number) => ({
    key: `key-${num}`,
    value: `value-${num}-${new Date().toISOString()}`,
    headers: {
      'correlation-id': `${num}-${Date.now()}`,
    },
  });

  let msgNumber = 0;
  const sent: { key: string; value: string; correlationId: string }[] = [];
  const responses: RecordMetadata[][] = [];
  const sendMessage = () => {
    const messages = Array(1 + (getRandomNumber() % 50))
      .fill(undefined)
      .map(() => createMessage(getRandomNumber()));
    msgNumber += messages.length;
    for (const m of messages) sent.push({ key: m.key, value: m.value, correlationId: m.headers['correlation-id'] });
    return producer
      .send({
        topic,
        compression: CompressionTypes.GZIP,
        messages,
      })
      .then((response) => {
        responses.push(response);
      });
  };

  await producer.connect();
  for (let i = 0; i < config.requests; i++) await sendMessage();
  await producer.disconnect();
  return { sent, responses, msgNumber };
};
