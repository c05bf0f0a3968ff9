import { useEffect, useMemo, useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import type { Api, GroupDetail } from '../api';
import { formatTime } from '../format';
import { LagChart, type LagSample } from '../lag-chart';
import { Loading, ProblemView, Title, useAction, useLoad } from '../ui';

const REFRESH_MS = 5000;

export const GroupsScreen = ({ api }: { api: Api }) => {
  const { data, error, loading } = useLoad(() => api.listGroups(), [api]);
  return (
    <section>
      <Title>Consumer groups</Title>
      <ProblemView error={error} />
      {loading && !data ? <Loading what="groups" /> : null}
      {data ? (
        data.length === 0 ? (
          <p>No consumer groups yet. A group appears when a consumer joins it or commits an offset.</p>
        ) : (
          <table>
            <caption class="sr-only">Consumer groups</caption>
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Members</th>
                <th scope="col">Generation</th>
              </tr>
            </thead>
            <tbody>
              {data.map((g) => (
                <tr key={g.group}>
                  <th scope="row">
                    <Link href={`/groups/${encodeURIComponent(g.group)}`}>{g.group}</Link>
                  </th>
                  <td class="num">{g.members}</td>
                  <td class="num">{g.generation}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : null}
    </section>
  );
};

type Strategy = 'earliest' | 'latest' | 'offset' | 'datetime' | 'shift';

const ResetOffsets = ({ api, group, onDone }: { api: Api; group: GroupDetail; onDone: () => Promise<void> }) => {
  const topics = [...new Set(group.partitions.map((p) => p.topic))].sort();
  const [topic, setTopic] = useState(topics[0] ?? '');
  const [strategy, setStrategy] = useState<Strategy>('earliest');
  const [amount, setAmount] = useState('0');
  const [done, setDone] = useState('');
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    setDone('');
    void run(async () => {
      const detail = await api.getTopic(topic);
      const offsets = await Promise.all(
        detail.partitionStates.map(async (s) => {
          const committed = group.partitions.find(
            (p) => p.topic === topic && p.partition === s.partition,
          )?.committedOffset;
          const clamp = (n: number) => Math.min(Math.max(n, s.logStartOffset), s.highWatermark);
          let offset: number;
          if (strategy === 'earliest') offset = s.logStartOffset;
          else if (strategy === 'latest') offset = s.highWatermark;
          else if (strategy === 'offset') offset = clamp(Number(amount));
          else if (strategy === 'shift') offset = clamp((committed ?? s.logStartOffset) + Number(amount));
          else offset = await api.offsetForTime(topic, s.partition, new Date(amount).getTime());
          return { topic, partition: s.partition, offset };
        }),
      );
      await api.commitOffsets(group.group, offsets);
      await onDone();
      setDone(`Offsets of ${topic} reset: ${offsets.map((o) => `partition ${o.partition} → ${o.offset}`).join(', ')}.`);
    });
  };
  return (
    <form class="card" aria-label="Reset offsets" onSubmit={submit}>
      <h2>Reset offsets</h2>
      <label>
        Topic
        <select value={topic} onChange={(e) => setTopic(e.currentTarget.value)}>
          {topics.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </label>
      <label>
        Reset to
        <select value={strategy} onChange={(e) => setStrategy(e.currentTarget.value as Strategy)}>
          <option value="earliest">Earliest</option>
          <option value="latest">Latest</option>
          <option value="offset">Offset</option>
          <option value="datetime">Date and time</option>
          <option value="shift">Shift by</option>
        </select>
      </label>
      {strategy === 'offset' || strategy === 'shift' ? (
        <label>
          {strategy === 'offset' ? 'Offset' : 'Shift by'}
          <input type="number" value={amount} onInput={(e) => setAmount(e.currentTarget.value)} />
        </label>
      ) : null}
      {strategy === 'datetime' ? (
        <label>
          Date and time
          <input type="datetime-local" value={amount} onInput={(e) => setAmount(e.currentTarget.value)} />
        </label>
      ) : null}
      <button type="submit" disabled={busy || !topic}>
        Reset offsets
      </button>
      <p role="status">{done}</p>
      <ProblemView error={error} />
    </form>
  );
};

export const GroupScreen = ({ api, group }: { api: Api; group: string }) => {
  const name = decodeURIComponent(group);
  const { data, error, loading, reload } = useLoad(() => api.getGroup(name), [api, name]);
  const [samples, setSamples] = useState<LagSample[]>([]);

  useEffect(() => {
    const timer = setInterval(() => void reload(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);

  useEffect(() => {
    if (!data) return;
    const lag: Record<string, number> = {};
    for (const p of data.partitions) if (p.lag !== null) lag[`${p.topic}/${p.partition}`] = p.lag;
    setSamples((old) => [...old.slice(-359), { time: Date.now() / 1000, lag }]);
  }, [data]);

  const totalLag = useMemo(() => data?.partitions.reduce((n, p) => n + (p.lag ?? 0), 0), [data]);

  return (
    <section>
      <Title>
        <span class="muted">Consumer group</span> {name}
      </Title>
      <ProblemView error={error} />
      {loading && !data ? <Loading what="the group" /> : null}
      {data ? (
        <>
          <p class="muted">
            Generation {data.generation} · {data.members.length} members · total lag {totalLag}
          </p>
          <h2>Members</h2>
          {data.members.length === 0 ? (
            <p>No live members.</p>
          ) : (
            <table>
              <caption class="sr-only">Members</caption>
              <thead>
                <tr>
                  <th scope="col">Member</th>
                  <th scope="col">Assignments</th>
                  <th scope="col">Last heartbeat</th>
                </tr>
              </thead>
              <tbody>
                {data.members.map((m) => (
                  <tr key={m.memberId}>
                    <th scope="row">{m.memberId}</th>
                    <td>{m.assignments.map((a) => `${a.topic} [${a.partitions.join(', ')}]`).join('; ') || 'none'}</td>
                    <td>{formatTime(m.lastHeartbeat)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>Lag</h2>
          <table>
            <caption class="sr-only">Lag per partition</caption>
            <thead>
              <tr>
                <th scope="col">Topic</th>
                <th scope="col">Partition</th>
                <th scope="col">Committed offset</th>
                <th scope="col">High watermark</th>
                <th scope="col">Lag</th>
              </tr>
            </thead>
            <tbody>
              {data.partitions.map((p) => (
                <tr key={`${p.topic}/${p.partition}`}>
                  <th scope="row">{p.topic}</th>
                  <td class="num">{p.partition}</td>
                  <td class="num">{p.committedOffset ?? '—'}</td>
                  <td class="num">{p.highWatermark}</td>
                  <td class="num">{p.lag ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <LagChart samples={samples} />
          {data.members.length === 0 ? (
            <ResetOffsets api={api} group={data} onDone={reload} />
          ) : (
            <p class="muted">Offsets can be reset when the group has no live members.</p>
          )}
        </>
      ) : null}
    </section>
  );
};
