import { describe, expect, it } from 'vitest';
import { UsageError } from './errors';
import { compileFormat, type FormattableRecord, parseDelimiter } from './record-format';

const bytes = (text: string) => new TextEncoder().encode(text);
const record: FormattableRecord = {
  topic: 'orders',
  partition: 3,
  offset: 42,
  timestamp: 1_700_000_000_000,
  key: bytes('user-1'),
  value: bytes('hello'),
  headers: [
    { key: 'trace', value: bytes('abc') },
    { key: 'n', value: null },
  ],
};
const render = (format: string, r: FormattableRecord = record) => new TextDecoder().decode(compileFormat(format)(r));

describe('compileFormat (kcat -f tokens)', () => {
  it('expands every token', () => {
    expect(render('%t %p %o %T %k %K %s %v %S %h %%')).toBe(
      'orders 3 42 1700000000000 user-1 6 hello hello 5 trace=abc,n= %',
    );
  });

  it('expands escapes', () => {
    expect(render('%k\\t%s\\n')).toBe('user-1\thello\n');
    expect(render('\\r\\\\\\x41')).toBe('\r\\A');
  });

  it('prints null keys and values as nothing, with length -1', () => {
    expect(render('[%k][%s] %K %S', { ...record, key: null, value: null })).toBe('[][] -1 -1');
  });

  it('writes value bytes unchanged, with nothing appended', () => {
    const binary = Uint8Array.of(0, 255, 10, 13, 0x80, 0xfe);
    expect(compileFormat('%s')({ ...record, value: binary })).toEqual(binary);
  });

  it.each(['%x', '%', 'a\\q', '\\x4', '\\xZZ', 'end\\'])('refuses %j as usage', (format) => {
    expect(() => compileFormat(format)).toThrow(UsageError);
  });
});

describe('parseDelimiter (-K)', () => {
  it('reads plain text and escapes', () => {
    expect(parseDelimiter(':')).toEqual(bytes(':'));
    expect(parseDelimiter('\\t')).toEqual(bytes('\t'));
    expect(parseDelimiter('%')).toEqual(bytes('%'));
    expect(parseDelimiter('\\x1f')).toEqual(Uint8Array.of(0x1f));
  });

  it('refuses an empty delimiter', () => {
    expect(() => parseDelimiter('')).toThrow(UsageError);
  });
});
