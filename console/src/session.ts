import { Api } from './api';

/**
 * The signed-in key lives in sessionStorage only: gone when the tab closes, never in
 * localStorage, a cookie or a URL.
 */
const STORAGE_KEY = 'runnel.session';

/** The stream endpoint, when the server says it is not this origin (`<meta name="runnel-stream-url">`). */
const streamUrl = () =>
  document.querySelector<HTMLMetaElement>('meta[name="runnel-stream-url"]')?.content.replace(/\/$/, '');

const client = (apiKey: string) => new Api(apiKey, location.origin, streamUrl() || location.origin);

export type Role = 'tenant' | 'operator';
export interface Session {
  role: Role;
  api: Api;
}

export const loadSession = (): Session | null => {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const { apiKey, role } = JSON.parse(raw) as { apiKey: string; role: Role };
    return { role, api: client(apiKey) };
  } catch {
    return null;
  }
};

export const saveSession = (apiKey: string, role: Role): Session => {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ apiKey, role }));
  return { role, api: client(apiKey) };
};

export const clearSession = () => sessionStorage.clear();
