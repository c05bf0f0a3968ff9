import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './errors';

/** A named connection: where the service is and which keys to use there. */
export interface Profile {
  url: string;
  apiKey?: string;
  operatorKey?: string;
}

export interface ProfileFile {
  current?: string;
  profiles: Record<string, Profile>;
}

/**
 * The user's config directory: `$RUNNEL_CONFIG_DIR`, else `$XDG_CONFIG_HOME/runnel`, else
 * `%APPDATA%\runnel` on Windows, else `~/.config/runnel` (what rpk and gh do on Linux and macOS).
 */
export const configDir = (env: NodeJS.ProcessEnv = process.env): string => {
  if (env.RUNNEL_CONFIG_DIR) return env.RUNNEL_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'runnel');
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'runnel');
  return join(homedir(), '.config', 'runnel');
};

export const profilesPath = (env: NodeJS.ProcessEnv = process.env) => join(configDir(env), 'profiles.json');

export const readProfiles = (env: NodeJS.ProcessEnv = process.env): ProfileFile => {
  const path = profilesPath(env);
  if (!existsSync(path)) return { profiles: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new UsageError(`${path} is not valid JSON; fix or delete it`);
  }
  const file = parsed as Partial<ProfileFile> | null;
  if (!file || typeof file !== 'object' || typeof file.profiles !== 'object' || file.profiles === null) {
    throw new UsageError(`${path} has no "profiles" object; fix or delete it`);
  }
  return { current: file.current, profiles: file.profiles };
};

/** Writes the profiles file readable by its owner only (it holds keys): 0700 directory, 0600 file. */
export const writeProfiles = (file: ProfileFile, env: NodeJS.ProcessEnv = process.env): string => {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = profilesPath(env);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  // mode only applies when the file is created; a leftover temporary file keeps its own.
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
  return path;
};

const PROFILE_NAME = /^[a-zA-Z0-9._-]{1,64}$/;

export const checkProfileName = (name: string): string => {
  if (!PROFILE_NAME.test(name)) {
    throw new UsageError(`profile name "${name}" must be 1-64 characters of letters, digits, ".", "_" or "-"`);
  }
  return name;
};
