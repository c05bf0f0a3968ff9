import { Runnel } from '@runnel/client';
import { Kafka, KafkaJSError, KafkaJSNotImplemented, KafkaJSProtocolError } from '@runnel/client/kafkajs';
import { Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpStack, startHttpStack } from './http-stack';
import * as adminExample from './kafkajs-examples/admin';
import * as consumerExample from './kafkajs-examples/consumer';
import * as producerExample from './kafkajs-examples/producer';

let h: HttpStack;
beforeAll(async () => {
  h = await startHttpStack();
});
afterAll(async () => {
  await h?.close();
});

describe('kafkajs facade: kafkajs example programs with only import and config changed', () => {
  it('admin example: topics deleted, created, grown', async () => {
    const first = await adminExample.run({ url: h.url, apiKey: h.stack.apiKey });
    expect(first.summary).toBe('topic-test1 => 3 part, topic-test2 => 4 part, topic-test3 => 5 part');
    // Second run deletes what the first created.
    const second = await adminExample.run({ url: h.url, apiKey: h.stack.apiKey });
    expect(second.afterDelete).toBe(0);
    expect(second.summary).toBe(first.summary);
  });

  it('producer and consumer examples: keyed messages with headers, on kafkajs’s default partitioner’s partition', async () => {
    const topic = 'topic-test';
    await new Runnel({ url: h.url, apiKey: h.stack.apiKey }).topics.create({ name: topic, partitions: 5 });
    const produced = await producerExample.run({ url: h.url, apiKey: h.stack.apiKey, topic, requests: 4 });
    expect(produced.responses).toHaveLength(4);
    for (const response of produced.responses) {
      for (const m of response)
        expect(m).toMatchObject({ topicName: topic, errorCode: 0, baseOffset: expect.any(String) });
    }
    const consumed = await consumerExample.run({
      url: h.url,
      apiKey: h.stack.apiKey,
      topic,
      expect: produced.msgNumber,
    });
    expect(consumed.received).toHaveLength(produced.msgNumber);
    const kafkajsPartition = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 5 }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    const byValue = new Map(consumed.received.map((r) => [r.value, r]));
    for (const s of produced.sent) {
      const r = byValue.get(s.value);
      expect(r, s.value).toBeDefined();
      expect(r?.key).toBe(s.key);
      expect(r?.headers).toEqual({ 'correlation-id': s.correlationId });
      expect(r?.partition).toBe(
        kafkajsPartition({ topic, partitionMetadata, message: { key: s.key, value: s.value } }),
      );
      expect(r?.offset).toMatch(/^\d+$/);
      expect(r?.timestamp).toMatch(/^\d+$/);
    }
    expect(consumed.events).toContain('consumer.group_join');
    expect(consumed.events).toContain('consumer.commit_offsets');
  });

  it('admin calls of groups and offsets; kafkajs error classes', async () => {
    const kafka = new Kafka({ clientId: 'x', brokers: [h.url], apiKey: h.stack.apiKey, logLevel: 0 });
    const admin = kafka.admin();
    await admin.connect();
    expect(
      await admin.createTopics({
        topics: [{ topic: 'adm', numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '60000' }] }],
      }),
    ).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic: 'adm', numPartitions: 2 }] })).toBe(false);
    expect(await admin.listTopics()).toContain('adm');
    const producer = kafka.producer();
    await producer.connect();
    const before = Date.now();
    await producer.send({
      topic: 'adm',
      messages: [
        { partition: 0, value: 'a' },
        { partition: 1, value: 'b' },
        { partition: 1, value: 'c' },
      ],
    });
    await producer.disconnect();
    expect(await admin.fetchTopicOffsets('adm')).toEqual([
      { partition: 0, offset: '1', high: '1', low: '0' },
      { partition: 1, offset: '2', high: '2', low: '0' },
    ]);
    expect(await admin.fetchTopicOffsetsByTimestamp('adm', before - 60_000)).toEqual([
      { partition: 0, offset: '0' },
      { partition: 1, offset: '0' },
    ]);
    await admin.setOffsets({ groupId: 'adm-g', topic: 'adm', partitions: [{ partition: 1, offset: '1' }] });
    expect(await admin.fetchOffsets({ groupId: 'adm-g', topics: ['adm'] })).toEqual([
      {
        topic: 'adm',
        partitions: [
          { partition: 0, offset: '-1', metadata: null },
          { partition: 1, offset: '1', metadata: null },
        ],
      },
    ]);
    await admin.resetOffsets({ groupId: 'adm-g', topic: 'adm', earliest: false });
    expect(
      (await admin.fetchOffsets({ groupId: 'adm-g', topics: ['adm'] }))[0]?.partitions.map((p) => p.offset),
    ).toEqual(['1', '2']);
    expect((await admin.listGroups()).groups).toContainEqual({ groupId: 'adm-g', protocolType: 'consumer' });
    expect((await admin.describeGroups(['adm-g'])).groups[0]).toMatchObject({
      groupId: 'adm-g',
      state: 'Empty',
      members: [],
    });
    const missing = await admin.fetchTopicOffsets('nope').catch((e) => e);
    expect(missing).toBeInstanceOf(KafkaJSProtocolError);
    expect(missing).toBeInstanceOf(KafkaJSError);
    expect(missing).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: false });
    await expect(kafka.producer().transaction()).rejects.toBeInstanceOf(KafkaJSNotImplemented);
    expect(() => kafka.producer({ transactionalId: 't' })).toThrow(KafkaJSNotImplemented);
  });
});
