import { useState } from 'preact/hooks';
import type { Api, Connector } from '../api';
import { Loading, ProblemView, Title, useAction, useLoad } from '../ui';

const EXAMPLES: Record<string, string> = {
  datagen: '{\n  "topic": "orders",\n  "template": "orders",\n  "recordsPerSecond": 1\n}',
  'http-sink': '{\n  "topics": ["orders"],\n  "url": "https://example.com/hook"\n}',
  's3-sink': '{\n  "topics": ["orders"],\n  "bucket": "my-bucket",\n  "prefix": "runnel/"\n}',
};

const CreateConnector = ({ api, onCreated }: { api: Api; onCreated: () => void }) => {
  const [name, setName] = useState('');
  const [kind, setKind] = useState('datagen');
  const [config, setConfig] = useState(EXAMPLES.datagen ?? '{}');
  const { busy, error, run } = useAction();
  return (
    <form
      class="card"
      aria-label="Create connector"
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(config) as Record<string, unknown>;
          } catch {
            throw new Error('Config is not valid JSON.');
          }
          await api.createConnector({ name: name.trim(), kind, config: parsed });
          onCreated();
        });
      }}
    >
      <label>
        Name
        <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Kind
        <select
          value={kind}
          onChange={(e) => {
            setKind(e.currentTarget.value);
            setConfig(EXAMPLES[e.currentTarget.value] ?? '{}');
          }}
        >
          <option value="datagen">datagen (source)</option>
          <option value="http-sink">http-sink</option>
          <option value="s3-sink">s3-sink</option>
        </select>
      </label>
      <label>
        Config
        <textarea rows={6} value={config} onInput={(e) => setConfig(e.currentTarget.value)} spellcheck={false} />
      </label>
      <button type="submit" disabled={busy}>
        Create
      </button>
      <ProblemView error={error} />
    </form>
  );
};

type Listed = Connector & { lag?: number };

const ConnectorRow = ({ api, c, onChanged }: { api: Api; c: Listed; onChanged: () => void }) => {
  const { busy, error, run } = useAction();
  const act = (action: () => Promise<unknown>) =>
    void run(async () => {
      await action();
      onChanged();
    });
  return (
    <tr>
      <th scope="row">{c.name}</th>
      <td>{c.kind}</td>
      <td>{c.state}</td>
      <td class="num">{c.status?.records ?? '—'}</td>
      <td class="num">{c.lag ?? '—'}</td>
      <td>{c.status?.lastError ?? ''}</td>
      <td>
        {c.state === 'running' ? (
          <button
            type="button"
            class="secondary"
            disabled={busy}
            aria-label={`Pause ${c.name}`}
            onClick={() => act(() => api.setConnectorState(c.name, 'paused'))}
          >
            Pause
          </button>
        ) : c.state === 'paused' ? (
          <button
            type="button"
            class="secondary"
            disabled={busy}
            aria-label={`Resume ${c.name}`}
            onClick={() => act(() => api.setConnectorState(c.name, 'running'))}
          >
            Resume
          </button>
        ) : null}{' '}
        <button
          type="button"
          class="danger"
          disabled={busy}
          aria-label={`Delete ${c.name}`}
          onClick={() => {
            if (confirm(`Delete connector ${c.name}?`)) act(() => api.deleteConnector(c.name));
          }}
        >
          Delete
        </button>
        <ProblemView error={error} />
      </td>
    </tr>
  );
};

export const ConnectorsScreen = ({ api }: { api: Api }) => {
  const [creating, setCreating] = useState(false);
  // A sink consumes as the group connect-<name>: its lag is that group's.
  const { data, error, loading, reload } = useLoad(async (): Promise<Listed[]> => {
    const connectors = await api.listConnectors();
    return Promise.all(
      connectors.map(async (c) => {
        if (!c.kind.endsWith('-sink')) return c;
        const group = await api.getGroup(`connect-${c.name}`).catch(() => undefined);
        return group ? { ...c, lag: group.partitions.reduce((n, p) => n + (p.lag ?? 0), 0) } : c;
      }),
    );
  }, [api]);
  return (
    <section>
      <div class="bar">
        <Title>Connectors</Title>
        <button type="button" aria-expanded={creating} onClick={() => setCreating(!creating)}>
          Create connector
        </button>
      </div>
      {creating ? (
        <CreateConnector
          api={api}
          onCreated={() => {
            setCreating(false);
            void reload();
          }}
        />
      ) : null}
      <ProblemView error={error} />
      {loading && !data ? <Loading what="connectors" /> : null}
      {data ? (
        data.length === 0 ? (
          <p>No connectors yet.</p>
        ) : (
          <table>
            <caption class="sr-only">Connectors</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">State</th>
                <th scope="col">Records</th>
                <th scope="col">Lag</th>
                <th scope="col">Last error</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.map((c) => (
                <ConnectorRow key={c.name} api={api} c={c} onChanged={() => void reload()} />
              ))}
            </tbody>
          </table>
        )
      ) : null}
    </section>
  );
};
