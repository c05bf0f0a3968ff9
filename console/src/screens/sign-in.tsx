import { useState } from 'preact/hooks';
import { Api, ApiError } from '../api';
import { type Session, saveSession } from '../session';
import { ProblemView, Title, useAction } from '../ui';

/** Sign in with an API key: a tenant key opens the tenant's screens, the operator key the tenants screen. */
export const SignIn = ({ onSignedIn }: { onSignedIn: (s: Session) => void }) => {
  const [apiKey, setApiKey] = useState('');
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    const key = apiKey.trim();
    void run(async () => {
      const api = new Api(key);
      try {
        await api.listTopics();
        onSignedIn(saveSession(key, 'tenant'));
      } catch (tenantError) {
        // Not a tenant key: it may be the operator key.
        if (!(tenantError instanceof ApiError && tenantError.problem.status === 401)) throw tenantError;
        try {
          await api.listTenants();
        } catch {
          throw tenantError;
        }
        onSignedIn(saveSession(key, 'operator'));
      }
    });
  };
  return (
    <section class="sign-in">
      <Title>Sign in to Runnel</Title>
      <form onSubmit={submit}>
        <label>
          API key
          <input
            type="password"
            name="apiKey"
            autoComplete="off"
            spellcheck={false}
            required
            value={apiKey}
            onInput={(e) => setApiKey(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <ProblemView error={error} />
      <p class="muted">The key is kept in this tab only and forgotten when you sign out or close the tab.</p>
    </section>
  );
};
