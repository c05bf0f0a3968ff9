import { useState } from 'preact/hooks';
import type { Api } from '../api';
import { formatTime } from '../format';
import { SecretOnce } from '../secret';
import { Loading, ProblemView, Title, useAction, useLoad } from '../ui';

/** The operator's screen: tenants, each created with a first key shown once. */
export const TenantsScreen = ({ api }: { api: Api }) => {
  const [name, setName] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const { data, error, loading, reload } = useLoad(() => api.listTenants(), [api]);
  const create = useAction();
  const remove = useAction();
  return (
    <section>
      <Title>Tenants</Title>
      {secret ? <SecretOnce label="The tenant's first API key" secret={secret} onDone={() => setSecret(null)} /> : null}
      <form
        class="card"
        aria-label="Create tenant"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run(async () => {
            const created = await api.createTenant(name.trim());
            setName('');
            setSecret(created.apiKey);
            void reload();
          });
        }}
      >
        <label>
          Name
          <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={create.busy}>
          Create tenant
        </button>
        <ProblemView error={create.error} />
      </form>
      <ProblemView error={error ?? remove.error} />
      {loading && !data ? <Loading what="tenants" /> : null}
      {data ? (
        <table>
          <caption class="sr-only">Tenants</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Tenant id</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.map((t) => (
              <tr key={t.tenantId}>
                <th scope="row">{t.name}</th>
                <td>
                  <code>{t.tenantId}</code>
                </td>
                <td>{formatTime(t.createdAt)}</td>
                <td>
                  <button
                    type="button"
                    class="danger"
                    aria-label={`Delete tenant ${t.name}`}
                    disabled={remove.busy}
                    onClick={() => {
                      if (!confirm(`Delete tenant ${t.name}? Its keys stop working at once.`)) return;
                      void remove.run(async () => {
                        await api.deleteTenant(t.tenantId);
                        await reload();
                      });
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
};
