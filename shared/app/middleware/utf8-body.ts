import type { MiddlewareHandler } from 'hono';
import { invalidRequest } from '#shared/domain/errors';
import type { AppEnv } from '../env';

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });
/** A `\uD800`–`\uDFFF` escape: only then can JSON text hold a lone surrogate. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;
const LONE_SURROGATE = /\p{Cs}/u;

const hasLoneSurrogate = (value: unknown): boolean => {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (Array.isArray(value)) return value.some(hasLoneSurrogate);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => LONE_SURROGATE.test(k) || hasLoneSurrogate(v));
  }
  return false;
};

/**
 * JSON bodies must be UTF-8, as RFC 8259 says. Without this check a decoder replaces
 * bad bytes, lone surrogates and other charsets with U+FFFD and the record is stored
 * altered; the contract refuses bad input instead of changing it.
 */
export const utf8JsonBody = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const contentType = c.req.header('Content-Type');
  if (!contentType || !/^application\/([\w.+-]+\+)?json\b/i.test(contentType.trim())) return next();
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
  if (charset && !/^utf-?8$/i.test(charset)) {
    throw invalidRequest(`A JSON body must be UTF-8; charset=${charset.slice(0, 40)} is not accepted.`);
  }
  const bytes = await c.req.arrayBuffer();
  let text: string;
  try {
    text = fatalUtf8.decode(bytes);
  } catch {
    throw invalidRequest('The body is not valid UTF-8.');
  }
  if (SURROGATE_ESCAPE.test(text)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return next(); // the validator answers malformed JSON with its own 400
    }
    if (hasLoneSurrogate(parsed)) {
      throw invalidRequest('The body holds a lone UTF-16 surrogate (\\uD800–\\uDFFF unpaired); it is not text.');
    }
  }
  await next();
};
