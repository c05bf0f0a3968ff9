import type { ComponentChildren } from 'preact';
import { useErrorBoundary, useState } from 'preact/hooks';
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter-preact';
import { ConnectorsScreen } from './screens/connectors';
import { GroupScreen, GroupsScreen } from './screens/groups';
import { KeysScreen } from './screens/keys';
import { SignIn } from './screens/sign-in';
import { TenantsScreen } from './screens/tenants';
import { TopicScreen } from './screens/topic';
import { TopicsScreen } from './screens/topics';
import { clearSession, loadSession, type Session } from './session';
import { ProblemView } from './ui';

/** A screen that fails to render shows the failure, never a blank page. */
const Boundary = ({ children }: { children: ComponentChildren }) => {
  const [error, reset] = useErrorBoundary();
  if (!error) return <>{children}</>;
  return (
    <>
      <ProblemView error={error} />
      <button type="button" class="secondary" onClick={reset}>
        Try again
      </button>
    </>
  );
};

const NotFound = () => (
  <div class="problem" role="alert">
    <strong>Not found</strong>
    <p>There is no such page in the console.</p>
  </div>
);

const NavLink = ({ href, label }: { href: string; label: string }) => {
  const [location] = useLocation();
  const active = location === href || location.startsWith(`${href}/`);
  return (
    <li>
      <Link href={href} class={active ? 'active' : ''} aria-current={active ? 'page' : undefined}>
        {label}
      </Link>
    </li>
  );
};

const Shell = ({ session, onSignOut }: { session: Session; onSignOut: () => void }) => {
  const api = session.api;
  const nav = (href: string, label: string) => <NavLink href={href} label={label} />;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Runnel</span>
        <nav aria-label="Main">
          <ul>
            {session.role === 'operator' ? (
              nav('/tenants', 'Tenants')
            ) : (
              <>
                {nav('/topics', 'Topics')}
                {nav('/groups', 'Consumer groups')}
                {nav('/keys', 'API keys')}
                {nav('/connectors', 'Connectors')}
              </>
            )}
          </ul>
        </nav>
        <button type="button" class="secondary" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main">
        <Boundary>
          {session.role === 'operator' ? (
            <Switch>
              <Route path="/tenants">
                <TenantsScreen api={api} />
              </Route>
              <Route>
                <Redirect to="/tenants" replace />
              </Route>
            </Switch>
          ) : (
            <Switch>
              <Route path="/">
                <Redirect to="/topics" replace />
              </Route>
              <Route path="/topics">
                <TopicsScreen api={api} />
              </Route>
              <Route path="/topics/:name/:tab?">{(p) => <TopicScreen api={api} name={p.name} tab={p.tab} />}</Route>
              <Route path="/groups">
                <GroupsScreen api={api} />
              </Route>
              <Route path="/groups/:group">{(p) => <GroupScreen api={api} group={p.group} />}</Route>
              <Route path="/keys">
                <KeysScreen api={api} />
              </Route>
              <Route path="/connectors">
                <ConnectorsScreen api={api} />
              </Route>
              <Route component={NotFound} />
            </Switch>
          )}
        </Boundary>
      </main>
    </>
  );
};

export const App = () => {
  const [session, setSession] = useState<Session | null>(loadSession);
  return (
    <Router base="/console">
      {session ? (
        <Shell
          session={session}
          onSignOut={() => {
            clearSession();
            setSession(null);
          }}
        />
      ) : (
        <main id="main">
          <SignIn onSignedIn={setSession} />
        </main>
      )}
    </Router>
  );
};
