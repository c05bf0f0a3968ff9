import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `rnl_<keyId>_<secret>`: a recognisable prefix (secret scanners can
 * find leaked keys), a public key id used to look the key up, and 256 random bits.
 * Only the SHA-256 of the whole key is stored; a fast hash is right for a high-entropy
 * secret (it is not a password), and lookups compare hashes in constant time.
 */
export const API_KEY_PREFIX = 'rnl_';
const KEY_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const WELL_FORMED = /^rnl_([a-z2-7]{16})_([A-Za-z0-9_-]{43})$/;

export const hashApiKey = (apiKey: string): string => createHash('sha256').update(apiKey, 'utf8').digest('hex');

const randomKeyId = (): string => {
  const bytes = randomBytes(16);
  let id = '';
  for (const b of bytes) id += KEY_ID_ALPHABET[b & 31];
  return id;
};

export interface GeneratedKey {
  keyId: string;
  apiKey: string;
  secretHash: string;
}

export const generateApiKey = (): GeneratedKey => {
  const keyId = randomKeyId();
  const apiKey = `${API_KEY_PREFIX}${keyId}_${randomBytes(32).toString('base64url')}`;
  return { keyId, apiKey, secretHash: hashApiKey(apiKey) };
};

/**
 * The id under which a key is stored. Generated keys carry it; a key chosen by an
 * operator for local development (RUNNEL_DEV_API_KEY) gets one derived from its hash.
 */
export const keyIdOf = (apiKey: string): string => {
  const match = WELL_FORMED.exec(apiKey);
  if (match) return match[1] as string;
  return `x${hashApiKey(apiKey).slice(0, 15)}`;
};

/** Constant-time comparison of two hex digests. */
export const hashesEqual = (a: string, b: string): boolean => {
  const ab = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ab.length === bb.length && ab.length > 0 && timingSafeEqual(ab, bb);
};

/** Bearer token from an Authorization header, or undefined. */
export const bearerToken = (header: string | undefined): string | undefined => {
  if (!header) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
};
