import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Permission } from './permissions';

/**
 * Browser tokens look like `rnt_<keyId>.<payload>.<signature>`: the id of the key that
 * minted the token, a base64url JSON payload (expiry and permissions), and an HMAC-SHA256
 * of both under the minting key's stored hash. Nothing is stored per token: any instance
 * verifies one with the key item it already caches for API keys, and revoking the key
 * (deleting its item) kills every token it minted. The tenant is the key's, never the
 * token's.
 */
export const TOKEN_PREFIX = 'rnt_';
const WELL_FORMED = /^rnt_([a-z0-9]{16})\.([A-Za-z0-9_-]{1,4096})\.([A-Za-z0-9_-]{43})$/;

export interface TokenClaims {
  /** ms since epoch. */
  expiresAt: number;
  permissions: Permission[];
}

const sign = (signingKey: string, signed: string) => createHmac('sha256', signingKey).update(signed).digest();

export const isBrowserToken = (bearer: string): boolean => bearer.startsWith(TOKEN_PREFIX);

export const mintToken = (keyId: string, signingKey: string, claims: TokenClaims): string => {
  const payload = Buffer.from(JSON.stringify({ e: claims.expiresAt, p: claims.permissions })).toString('base64url');
  const signed = `${TOKEN_PREFIX}${keyId}.${payload}`;
  return `${signed}.${sign(signingKey, signed).toString('base64url')}`;
};

/** The key id a token names, or undefined if it is not a well-formed token. */
export const tokenKeyId = (token: string): string | undefined => WELL_FORMED.exec(token)?.[1];

/**
 * The claims of a token whose signature is valid under `signingKey` (compared in constant
 * time), else undefined. Expiry is the caller's to check, after the signature.
 */
export const verifyToken = (token: string, signingKey: string): TokenClaims | undefined => {
  const match = WELL_FORMED.exec(token);
  if (!match) return undefined;
  const payload = match[2] as string;
  const given = Buffer.from(match[3] as string, 'base64url');
  const expected = sign(signingKey, `${TOKEN_PREFIX}${match[1]}.${payload}`);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const { e, p } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (!Number.isSafeInteger(e) || !Array.isArray(p)) return undefined;
    return { expiresAt: e, permissions: p };
  } catch {
    return undefined;
  }
};
