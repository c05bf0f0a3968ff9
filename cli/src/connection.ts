import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './errors';
import { type Profile, readProfiles } from './profiles';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** The global options every command takes (commander's camelCase names). */
export interface GlobalOptions {
  url?: string;
  apiKey?: string;
  operatorKey?: string;
  profile?: string;
  json?: boolean;
}

export interface Connection {
  url: string;
  apiKey?: string;
  operatorKey?: string;
}

/** The checkout this CLI runs from, when it runs from one (`cli/dist/runnel.js` → the repository root). */
export const checkoutRoot = (): string | undefined => {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = resolve(here, '..', '..');
  return existsSync(join(root, 'local', 'main.ts')) ? root : undefined;
};

/**
 * The keys a local `npm start` (or `runnel dev`) wrote: `$RUNNEL_DATA_DIR/local-keys.json`,
 * else `./.runnel/local-keys.json`, else the checkout's `.runnel/local-keys.json`.
 */
export const localKeys = (env: NodeJS.ProcessEnv = process.env): { operatorKey?: string; devApiKey?: string } => {
  const candidates = [
    env.RUNNEL_DATA_DIR ? join(resolve(env.RUNNEL_DATA_DIR), 'local-keys.json') : undefined,
    resolve('.runnel', 'local-keys.json'),
    ((root) => (root ? join(root, '.runnel', 'local-keys.json') : undefined))(checkoutRoot()),
  ];
  for (const path of candidates) {
    if (!path || !existsSync(path)) continue;
    try {
      const keys = JSON.parse(readFileSync(path, 'utf8')) as { operatorKey?: unknown; devApiKey?: unknown };
      return {
        ...(typeof keys.operatorKey === 'string' ? { operatorKey: keys.operatorKey } : {}),
        ...(typeof keys.devApiKey === 'string' ? { devApiKey: keys.devApiKey } : {}),
      };
    } catch {
      // A half-written or foreign file: fall through to the next place.
    }
  }
  return {};
};

/**
 * Resolves where to connect and with which key. Precedence, as in rpk and the AWS CLI:
 * flags, then environment (`RUNNEL_URL`, `RUNNEL_API_KEY`, `RUNNEL_OPERATOR_KEY`), then the
 * profile (`--profile`, `RUNNEL_PROFILE`, or the one chosen with `runnel profile use`), then
 * the local defaults (`http://127.0.0.1:8080` and the dev key a local server wrote).
 */
export const resolveConnection = (options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Connection => {
  const profileName = options.profile ?? env.RUNNEL_PROFILE;
  let profile: Profile | undefined;
  if (profileName !== undefined) {
    const file = readProfiles(env);
    profile = file.profiles[profileName];
    if (!profile) throw new UsageError(`no profile "${profileName}" (see runnel profile list)`);
  } else {
    const file = readProfiles(env);
    profile = file.current === undefined ? undefined : file.profiles[file.current];
  }
  const url = options.url ?? env.RUNNEL_URL ?? profile?.url ?? DEFAULT_URL;
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`--url "${url}" must be an http:// or https:// URL`);
  const local = () => localKeys(env);
  const apiKey = options.apiKey ?? env.RUNNEL_API_KEY ?? profile?.apiKey;
  const operatorKey = options.operatorKey ?? env.RUNNEL_OPERATOR_KEY ?? profile?.operatorKey;
  // The local server's keys are only ever sent to a local server.
  const fallback = (apiKey === undefined || operatorKey === undefined) && isLoopback(url) ? local() : {};
  const resolvedKey = apiKey ?? fallback.devApiKey;
  const resolvedOperator = operatorKey ?? fallback.operatorKey;
  return {
    url,
    ...(resolvedKey ? { apiKey: resolvedKey } : {}),
    ...(resolvedOperator ? { operatorKey: resolvedOperator } : {}),
  };
};

const isLoopback = (url: string): boolean => {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
};
