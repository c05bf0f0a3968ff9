import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Link, useLocation, useSearch } from 'wouter-preact';
import type { Api, Header, TopicDetail } from '../api';
import { formatRetention, type Message, parseRetention, toJsonLine, toMessage } from '../format';
import { MessageTable } from '../message-table';
import { Loading, ProblemView, Title, useAction, useLoad } from '../ui';

/** Records fetched per partition per page (the API allows up to 10,000). */
const PAGE = 1000;
/** Live tail keeps at most this many rows (the oldest go first). */
const LIVE_MAX = 20_000;

type Start = 'earliest' | 'latest' | 'offset' | 'time';

const byTime = (a: Message, b: Message) =>
  a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset;

const Messages = ({ api, topic }: { api: Api; topic: TopicDetail }) => {
  const [location, navigate] = useLocation();
  const params = new URLSearchParams(useSearch());
  const partitionParam = params.get('partition');
  const partition = partitionParam === null || partitionParam === '' ? 'all' : Number(partitionParam);
  const start: Start =
    (params.get('start') as Start | null) ??
    (params.has('offset') ? 'offset' : params.has('time') ? 'time' : 'earliest');
  const [offsetInput, setOffsetInput] = useState(params.get('offset') ?? '0');
  const [timeInput, setTimeInput] = useState(() => {
    const t = Number(params.get('time'));
    return t > 0 ? new Date(t - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : '';
  });
  const [filter, setFilter] = useState('');
  const [live, setLive] = useState(false);
  const [following, setFollowing] = useState(false);
  const [liveError, setLiveError] = useState<unknown>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const next = useRef(new Map<number, { offset: number; hw: number }>());
  const { busy, error, run } = useAction();

  const setQuery = (changes: Record<string, string | null>) => {
    const q = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) q.delete(k);
      else q.set(k, v);
    }
    const s = q.toString();
    navigate(`${location}${s ? `?${s}` : ''}`, { replace: true });
  };

  const partitions = useMemo(
    () => (partition === 'all' ? topic.partitionStates.map((s) => s.partition) : [partition]),
    [partition, topic],
  );

  const startOffset = async (p: number): Promise<number> => {
    const state = topic.partitionStates.find((s) => s.partition === p);
    const low = state?.logStartOffset ?? 0;
    const high = state?.highWatermark ?? 0;
    if (start === 'latest') return Math.max(low, high - PAGE);
    if (start === 'offset') return Math.min(Math.max(low, Number(params.get('offset') ?? 0)), high);
    if (start === 'time') return api.offsetForTime(topic.name, p, Number(params.get('time') ?? 0));
    return low;
  };

  const load = async (more: boolean) => {
    const got: Message[] = [];
    await Promise.all(
      partitions.map(async (p) => {
        const from = more ? next.current.get(p)?.offset : await startOffset(p);
        if (from === undefined) return;
        const r = await api.fetchRecords(topic.name, p, from, PAGE);
        next.current.set(p, { offset: r.nextOffset, hw: r.highWatermark });
        for (const rec of r.records) got.push(toMessage(p, rec));
      }),
    );
    got.sort(byTime);
    setMessages((old) => (more ? [...old, ...got].sort(byTime) : got));
  };

  // Reloads when the query changes.
  useEffect(() => {
    next.current.clear();
    setMessages([]);
    void run(() => load(false));
  }, [topic, partitionParam, start, params.get('offset'), params.get('time')]);

  // Live tail: every partition by Server-Sent Events, rows added once per animation frame.
  useEffect(() => {
    if (!live) return;
    const abort = new AbortController();
    const pending: Message[] = [];
    let frame = 0;
    const flush = () => {
      frame = 0;
      const batch = pending.splice(0);
      setMessages((old) => {
        const merged = old.concat(batch);
        return merged.length > LIVE_MAX ? merged.slice(merged.length - LIVE_MAX) : merged;
      });
    };
    setLiveError(null);
    void (async () => {
      let lastId: string | undefined;
      while (!abort.signal.aborted) {
        try {
          await api.tail(
            topic.name,
            lastId,
            {
              onOpen: () => setFollowing(true),
              onRecords: (records, id) => {
                lastId = id;
                for (const r of records) {
                  const m = toMessage(r.partition ?? 0, r);
                  if (partition === 'all' || m.partition === partition) pending.push(m);
                }
                if (!frame) frame = requestAnimationFrame(flush);
              },
            },
            abort.signal,
          );
        } catch (e) {
          if (!abort.signal.aborted) {
            setLiveError(e);
            setLive(false);
          }
          return;
        }
      }
    })();
    return () => {
      abort.abort();
      setFollowing(false);
      if (frame) cancelAnimationFrame(frame);
    };
  }, [live, api, topic, partition]);

  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return f ? messages.filter((m) => m.haystack.includes(f)) : messages;
  }, [messages, filter]);

  const hasMore = [...next.current.values()].some((n) => n.offset < n.hw);

  const download = () => {
    const blob = new Blob([shown.map((m) => `${toJsonLine(m)}\n`).join('')], { type: 'application/x-ndjson' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `${topic.name}.jsonl`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  return (
    <section aria-label="Messages">
      <form
        class="controls"
        aria-label="Message query"
        onSubmit={(e) => {
          e.preventDefault();
          if (start === 'offset') setQuery({ offset: offsetInput, time: null, start: null });
          else if (start === 'time')
            setQuery({ time: String(new Date(timeInput).getTime()), offset: null, start: 'time' });
          else void run(() => load(false));
        }}
      >
        <label>
          Partition
          <select
            value={String(partition)}
            onChange={(e) => setQuery({ partition: e.currentTarget.value === 'all' ? null : e.currentTarget.value })}
          >
            <option value="all">All</option>
            {topic.partitionStates.map((s) => (
              <option key={s.partition} value={String(s.partition)}>
                {s.partition}
              </option>
            ))}
          </select>
        </label>
        <label>
          Start at
          <select
            value={start}
            onChange={(e) => {
              const v = e.currentTarget.value as Start;
              if (v === 'offset') setQuery({ start: null, offset: offsetInput, time: null });
              else if (v === 'time')
                setQuery({
                  start: 'time',
                  offset: null,
                  time: String(timeInput ? new Date(timeInput).getTime() : Date.now() - 3_600_000),
                });
              else setQuery({ start: v === 'earliest' ? null : v, offset: null, time: null });
            }}
          >
            <option value="earliest">Earliest</option>
            <option value="latest">Latest</option>
            <option value="offset">Offset</option>
            <option value="time">Time</option>
          </select>
        </label>
        {start === 'offset' ? (
          <label>
            Offset
            <input type="number" min={0} value={offsetInput} onInput={(e) => setOffsetInput(e.currentTarget.value)} />
          </label>
        ) : null}
        {start === 'time' ? (
          <label>
            Time
            <input type="datetime-local" value={timeInput} onInput={(e) => setTimeInput(e.currentTarget.value)} />
          </label>
        ) : null}
        <button type="submit" disabled={busy}>
          Load
        </button>
        <label>
          Filter
          <input
            type="search"
            value={filter}
            onInput={(e) => setFilter(e.currentTarget.value)}
            placeholder="key, value or header"
          />
        </label>
        <button type="button" aria-pressed={live} onClick={() => setLive(!live)}>
          Live
        </button>
        <button type="button" onClick={download} disabled={shown.length === 0}>
          Download
        </button>
      </form>
      <ProblemView error={error ?? liveError} />
      <p class="muted" role="status">
        {live ? (following ? 'Live: following new records. ' : 'Live: connecting… ') : ''}
        {shown.length === messages.length
          ? `${messages.length} messages`
          : `${shown.length} of ${messages.length} messages match the filter`}
      </p>
      <MessageTable messages={shown} follow={live} />
      {hasMore && !live ? (
        <button type="button" class="secondary" disabled={busy} onClick={() => void run(() => load(true))}>
          Load more
        </button>
      ) : null}
    </section>
  );
};

/** "key: value" per line; a line without a colon is a header with a null value. */
const parseHeaders = (text: string): Header[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => {
      const i = l.indexOf(':');
      return i < 0 ? { key: l, value: null } : { key: l.slice(0, i).trim(), value: l.slice(i + 1).trim() };
    });

const Produce = ({ api, topic }: { api: Api; topic: TopicDetail }) => {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [headers, setHeaders] = useState('');
  const [partition, setPartition] = useState('');
  const [result, setResult] = useState<{ partition: number; offset: number } | null>(null);
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    setResult(null);
    void run(async () => {
      const r = await api.produce(topic.name, [
        {
          key: key === '' ? null : key,
          value,
          headers: parseHeaders(headers),
          ...(partition === '' ? {} : { partition: Number(partition) }),
        },
      ]);
      const got = r.offsets[0];
      if (got) setResult({ partition: got.partition, offset: got.offset });
    });
  };
  return (
    <form class="card" aria-label="Produce a record" onSubmit={submit}>
      <label>
        Key
        <input value={key} onInput={(e) => setKey(e.currentTarget.value)} placeholder="empty for no key" />
      </label>
      <label>
        Value
        <textarea rows={6} value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      </label>
      <label>
        Headers
        <textarea
          rows={3}
          value={headers}
          onInput={(e) => setHeaders(e.currentTarget.value)}
          placeholder="one per line: name: value"
        />
      </label>
      <label>
        Partition
        <input
          type="number"
          min={0}
          max={topic.partitions - 1}
          value={partition}
          onInput={(e) => setPartition(e.currentTarget.value)}
          placeholder="by key"
        />
      </label>
      <button type="submit" disabled={busy}>
        Produce
      </button>
      <p role="status">{result ? `Produced to partition ${result.partition} at offset ${result.offset}.` : ''}</p>
      <ProblemView error={error} />
    </form>
  );
};

const Settings = ({ api, topic, onSaved }: { api: Api; topic: TopicDetail; onSaved: () => void }) => {
  const [retention, setRetention] = useState(formatRetention(topic.retentionMs));
  const [partitions, setPartitions] = useState(String(topic.partitions));
  const [saved, setSaved] = useState(false);
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    setSaved(false);
    void run(async () => {
      const retentionMs = parseRetention(retention);
      if (Number.isNaN(retentionMs)) throw new Error('Retention is a number with a unit (ms, s, m, h, d), or -1.');
      const change: { retentionMs?: number; partitions?: number } = {};
      if (retentionMs !== undefined && retentionMs !== topic.retentionMs) change.retentionMs = retentionMs;
      if (Number(partitions) !== topic.partitions) change.partitions = Number(partitions);
      if (Object.keys(change).length > 0) await api.updateTopic(topic.name, change);
      setSaved(true);
      onSaved();
    });
  };
  return (
    <form class="card" aria-label="Topic settings" onSubmit={submit}>
      <label>
        Retention
        <input value={retention} onInput={(e) => setRetention(e.currentTarget.value)} />
      </label>
      <label>
        Partitions
        <input
          type="number"
          min={topic.partitions}
          max={1000}
          value={partitions}
          onInput={(e) => setPartitions(e.currentTarget.value)}
        />
      </label>
      <p class="muted">Partitions can only grow.</p>
      <button type="submit" disabled={busy}>
        Save
      </button>
      <p role="status">{saved ? 'Saved.' : ''}</p>
      <ProblemView error={error} />
    </form>
  );
};

const DeleteTopic = ({ api, name }: { api: Api; name: string }) => {
  const [, navigate] = useLocation();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const { busy, error, run } = useAction();
  return (
    <div class="danger">
      <button type="button" class="danger" aria-expanded={open} onClick={() => setOpen(!open)}>
        Delete topic
      </button>
      {open ? (
        <form
          class="card"
          aria-label="Confirm topic deletion"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              await api.deleteTopic(name);
              navigate('/topics');
            });
          }}
        >
          <p>Deleting a topic makes its records unreadable at once. This cannot be undone.</p>
          <label>
            Type the topic name to confirm
            <input value={typed} onInput={(e) => setTyped(e.currentTarget.value)} autoComplete="off" />
          </label>
          <button type="submit" class="danger" disabled={busy || typed !== name}>
            Confirm delete
          </button>
          <ProblemView error={error} />
        </form>
      ) : null}
    </div>
  );
};

export const TopicScreen = ({ api, name, tab }: { api: Api; name: string; tab: string | undefined }) => {
  const topicName = decodeURIComponent(name);
  const { data, error, loading, reload } = useLoad(() => api.getTopic(topicName), [api, topicName]);
  const base = `/topics/${encodeURIComponent(topicName)}`;
  const current = tab ?? 'messages';
  const tabLink = (id: string, label: string) => (
    <Link
      href={`${base}/${id}`}
      aria-current={current === id ? 'page' : undefined}
      class={current === id ? 'active' : ''}
    >
      {label}
    </Link>
  );
  return (
    <section>
      <div class="bar">
        <Title>
          <span class="muted">Topic</span> {topicName}
        </Title>
        <DeleteTopic api={api} name={topicName} />
      </div>
      <nav class="tabs" aria-label="Topic">
        {tabLink('messages', 'Messages')}
        {tabLink('produce', 'Produce')}
        {tabLink('settings', 'Settings')}
      </nav>
      <ProblemView error={error} />
      {loading && !data ? <Loading what="the topic" /> : null}
      {data ? (
        <>
          <p class="muted">
            {data.partitions} partitions · retention {formatRetention(data.retentionMs)}
          </p>
          {current === 'produce' ? (
            <Produce api={api} topic={data} />
          ) : current === 'settings' ? (
            <Settings api={api} topic={data} onSaved={() => void reload()} />
          ) : (
            <Messages api={api} topic={data} />
          )}
        </>
      ) : null}
    </section>
  );
};
