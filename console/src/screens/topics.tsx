import { useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';
import type { Api } from '../api';
import { formatBytes, formatRetention, parseRetention } from '../format';
import { Loading, ProblemView, Title, useAction, useLoad } from '../ui';

const CreateTopic = ({ api, onCreated }: { api: Api; onCreated: (name: string) => void }) => {
  const [name, setName] = useState('');
  const [partitions, setPartitions] = useState('1');
  const [retention, setRetention] = useState('7d');
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const retentionMs = parseRetention(retention);
      if (Number.isNaN(retentionMs)) {
        throw new Error('Retention is a number with a unit (ms, s, m, h, d), or -1 to keep records forever.');
      }
      await api.createTopic({ name: name.trim(), partitions: Number(partitions), retentionMs });
      onCreated(name.trim());
    });
  };
  return (
    <form class="card" onSubmit={submit} aria-label="Create topic">
      <label>
        Name
        <input required value={name} onInput={(e) => setName(e.currentTarget.value)} pattern="[a-zA-Z0-9._\-]+" />
      </label>
      <label>
        Partitions
        <input
          type="number"
          min={1}
          max={1000}
          required
          value={partitions}
          onInput={(e) => setPartitions(e.currentTarget.value)}
        />
      </label>
      <label>
        Retention
        <input
          value={retention}
          onInput={(e) => setRetention(e.currentTarget.value)}
          aria-describedby="retention-help"
        />
      </label>
      <p id="retention-help" class="muted">
        For example 7d, 12h, 30m, or -1 to keep records forever.
      </p>
      <button type="submit" disabled={busy}>
        Create
      </button>
      <ProblemView error={error} />
    </form>
  );
};

export const TopicsScreen = ({ api }: { api: Api }) => {
  const [, navigate] = useLocation();
  const [creating, setCreating] = useState(false);
  const { data, error, loading } = useLoad(async () => {
    const topics = await api.listTopics();
    // Records and bytes come from each topic's partition states.
    return Promise.all(
      topics.map(async (t) => {
        const detail = await api.getTopic(t.name).catch(() => undefined);
        const states = detail?.partitionStates ?? [];
        return {
          ...t,
          records: detail ? states.reduce((n, s) => n + (s.highWatermark - s.logStartOffset), 0) : undefined,
          bytes: detail ? states.reduce((n, s) => n + (s.retainedBytes ?? 0), 0) : undefined,
        };
      }),
    );
  }, [api]);
  return (
    <section>
      <div class="bar">
        <Title>Topics</Title>
        <button type="button" aria-expanded={creating} onClick={() => setCreating(!creating)}>
          Create topic
        </button>
      </div>
      {creating ? (
        <CreateTopic api={api} onCreated={(name) => navigate(`/topics/${encodeURIComponent(name)}/messages`)} />
      ) : null}
      <ProblemView error={error} />
      {loading && !data ? <Loading what="topics" /> : null}
      {data ? (
        data.length === 0 ? (
          <p>No topics yet. Create one to start producing.</p>
        ) : (
          <table>
            <caption class="sr-only">Topics</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Partitions</th>
                <th scope="col">Retention</th>
                <th scope="col">Records</th>
                <th scope="col">Retained bytes</th>
              </tr>
            </thead>
            <tbody>
              {data.map((t) => (
                <tr key={t.name}>
                  <th scope="row">
                    <Link href={`/topics/${encodeURIComponent(t.name)}/messages`}>{t.name}</Link>
                  </th>
                  <td class="num">{t.partitions}</td>
                  <td>{formatRetention(t.retentionMs)}</td>
                  <td class="num">{t.records ?? '—'}</td>
                  <td class="num">{formatBytes(t.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : null}
    </section>
  );
};
