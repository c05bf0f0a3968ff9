import { describe, expect, it } from 'vitest';
import { RunnelError } from '#shared/domain/errors';
import { decodeField, encodeField } from './wire';

describe('wire encoding', () => {
  it('round-trips utf8 and base64', () => {
    const bytes = decodeField('aGVsbG8=', 'base64', 'v');
    expect(encodeField(bytes, 'utf8')).toBe('hello');
    expect(encodeField(decodeField('hé', 'utf8', 'v'), 'base64')).toBe(Buffer.from('hé').toString('base64'));
    expect(decodeField(null, 'base64', 'v')).toBeNull();
    expect(decodeField(undefined, 'utf8', 'v')).toBeNull();
    expect(decodeField('', 'base64', 'v')).toEqual(new Uint8Array(0));
  });

  it('refuses malformed base64 instead of decoding garbage', () => {
    for (const bad of ['aGVsbG8', 'a', '!!!!', 'aGVs bG8=', 'aGVsbG8==']) {
      expect(() => decodeField(bad, 'base64', 'records[0].value')).toThrow(RunnelError);
    }
  });
});
