import { topicNotFound } from '#shared/domain/errors';
import type { TopicSnapshot } from '#shared/domain/groups/membership';
import type { MetadataStore, Topic } from '#shared/ports/metadata-store';

/** The topics a group works with, read by name (the group protocol's one view of topic metadata). */
export class GroupTopics {
  constructor(private readonly metadata: MetadataStore) {}

  /** The named topics; a missing one is topic_not_found unless `allowMissing` (then it is left out). */
  async load(
    tenantId: string,
    names: readonly string[],
    options: { allowMissing?: boolean } = {},
  ): Promise<Map<string, Topic>> {
    const topics = await Promise.all(names.map((name) => this.metadata.getTopic(tenantId, name)));
    const byName = new Map<string, Topic>();
    names.forEach((name, i) => {
      const topic = topics[i];
      if (topic) byName.set(name, topic);
      else if (!options.allowMissing) throw topicNotFound(name);
    });
    return byName;
  }

  /** What an assignment is computed for: each existing topic's incarnation and partition count. */
  async snapshots(tenantId: string, names: readonly string[]): Promise<Map<string, TopicSnapshot>> {
    const topics = await this.load(tenantId, names, { allowMissing: true });
    return new Map([...topics].map(([name, t]) => [name, snapshot(t)]));
  }
}

export const snapshot = (topic: Topic): TopicSnapshot => ({ topicId: topic.topicId, partitions: topic.partitions });
