import { useState } from 'preact/hooks';
import type { Api, ApiKey } from '../api';
import { formatTime } from '../format';
import { SecretOnce } from '../secret';
import { Loading, ProblemView, Title, useAction, useLoad } from '../ui';

const ACTIONS = ['produce', 'consume', 'manage'] as const;

const CreateKey = ({ api, onCreated }: { api: Api; onCreated: (secret: string) => void }) => {
  const [name, setName] = useState('');
  const [resource, setResource] = useState('*');
  const [actions, setActions] = useState<Set<string>>(new Set(['produce', 'consume']));
  const { busy, error, run } = useAction();
  const toggle = (a: string) => {
    const next = new Set(actions);
    if (next.has(a)) next.delete(a);
    else next.add(a);
    setActions(next);
  };
  return (
    <form
      class="card"
      aria-label="Create key"
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          const created = await api.createKey({
            name: name.trim(),
            permissions: [{ resource: resource.trim(), actions: ACTIONS.filter((a) => actions.has(a)) }],
          });
          onCreated(created.apiKey);
        });
      }}
    >
      <label>
        Name
        <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Resource
        <input
          required
          value={resource}
          onInput={(e) => setResource(e.currentTarget.value)}
          aria-describedby="resource-help"
        />
      </label>
      <p id="resource-help" class="muted">
        * for everything, or topic:orders-*, group:billing, …
      </p>
      <fieldset>
        <legend>Permissions</legend>
        {ACTIONS.map((a) => (
          <label key={a} class="check">
            <input type="checkbox" checked={actions.has(a)} onChange={() => toggle(a)} />
            {a}
          </label>
        ))}
      </fieldset>
      <button type="submit" disabled={busy}>
        Create
      </button>
      <ProblemView error={error} />
    </form>
  );
};

const KeyRow = ({ api, k, onRevoked }: { api: Api; k: ApiKey; onRevoked: () => void }) => {
  const [confirming, setConfirming] = useState(false);
  const { busy, error, run } = useAction();
  return (
    <tr>
      <th scope="row">{k.name}</th>
      <td>
        <code>{k.keyId}</code>
      </td>
      <td>{k.permissions.map((p) => `${p.resource}: ${p.actions.join(', ')}`).join('; ')}</td>
      <td>{formatTime(k.createdAt)}</td>
      <td>
        {confirming ? (
          <>
            <button
              type="button"
              class="danger"
              disabled={busy}
              aria-label={`Confirm revoke ${k.name}`}
              onClick={() =>
                void run(async () => {
                  await api.revokeKey(k.keyId);
                  onRevoked();
                })
              }
            >
              Confirm revoke
            </button>{' '}
            <button type="button" class="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </>
        ) : (
          <button type="button" class="secondary" aria-label={`Revoke ${k.name}`} onClick={() => setConfirming(true)}>
            Revoke
          </button>
        )}
        <ProblemView error={error} />
      </td>
    </tr>
  );
};

export const KeysScreen = ({ api }: { api: Api }) => {
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const { data, error, loading, reload } = useLoad(() => api.listKeys(), [api]);
  return (
    <section>
      <div class="bar">
        <Title>API keys</Title>
        <button type="button" aria-expanded={creating} onClick={() => setCreating(!creating)}>
          Create key
        </button>
      </div>
      {secret ? <SecretOnce label="New API key" secret={secret} onDone={() => setSecret(null)} /> : null}
      {creating ? (
        <CreateKey
          api={api}
          onCreated={(s) => {
            setCreating(false);
            setSecret(s);
            void reload();
          }}
        />
      ) : null}
      <ProblemView error={error} />
      {loading && !data ? <Loading what="keys" /> : null}
      {data ? (
        <table>
          <caption class="sr-only">API keys</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key id</th>
              <th scope="col">Permissions</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.map((k) => (
              <KeyRow key={k.keyId} api={api} k={k} onRevoked={() => void reload()} />
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
};
