import { Kafka, logLevel } from '@runnel/client/kafkajs';

/** kafkajs's examples/admin.js: delete, (re)create topics, add partitions, read them back. */
export const run = async (config: { url: string; apiKey: string }) => {
  const kafka = new Kafka({
    logLevel: logLevel.NOTHING,
    brokers: [config.url],
    clientId: 'test-admin-id',
    sasl: { mechanism: 'plain', username: 'runnel', password: config.apiKey },
  });

  const topic1 = 'topic-test1';
  const topic2 = 'topic-test2';
  const topic3 = 'topic-test3';
  const expectedTopics = [topic1, topic2, topic3];
  const filterTopics = ({ name }: { name: string }) => expectedTopics.includes(name);
  const sortTopics = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const admin = kafka.admin();
  const getMyTopics = async () => {
    const md = await admin.fetchTopicMetadata({});
    return md.topics.filter(filterTopics).sort(sortTopics);
  };

  await admin.connect();
  let myTopics = await getMyTopics();
  if (myTopics.length > 0) {
    await admin.deleteTopics({ topics: myTopics.map(({ name }) => name) });
  }
  myTopics = await getMyTopics();
  const afterDelete = myTopics.length;
  await admin.createTopics({
    topics: expectedTopics.map((topic) => ({ topic })),
    waitForLeaders: true,
  });
  myTopics = await getMyTopics();
  await admin.createPartitions({
    topicPartitions: [
      { topic: topic1, count: 3 },
      { topic: topic2, count: 4, assignments: [[1], [0], [2]] },
      { topic: topic3, count: 5, assignments: [[1], [0], [2], [1]] },
    ] as { topic: string; count: number }[],
  });
  myTopics = await getMyTopics();
  const summary = myTopics.map((t) => `${t.name} => ${t.partitions.length} part`).join(', ');
  await admin.disconnect();
  return { afterDelete, summary };
};
