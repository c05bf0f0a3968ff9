import { describe, expect, it } from 'vitest';
import { indexOf, splitLines } from './lines';

const collect = async (chunks: (string | Uint8Array)[]) => {
  const lines: string[] = [];
  for await (const line of splitLines(
    (async function* () {
      yield* chunks;
    })(),
  )) {
    lines.push(Buffer.from(line).toString('latin1'));
  }
  return lines;
};

describe('splitLines', () => {
  it('splits across chunk boundaries and keeps a last line without newline', async () => {
    expect(await collect(['a\nb', 'c\n\nd', 'e'])).toEqual(['a', 'bc', '', 'de']);
  });

  it('does not invent an empty line after a final newline', async () => {
    expect(await collect(['x\n'])).toEqual(['x']);
    expect(await collect([])).toEqual([]);
  });

  it('keeps bytes exactly, \\r and invalid UTF-8 included', async () => {
    expect(await collect([Uint8Array.of(0xff, 0x0d, 0x0a, 0x80)])).toEqual(['\xff\r', '\x80']);
  });
});

describe('indexOf', () => {
  it('finds multi-byte needles', () => {
    const bytes = new TextEncoder().encode('ab::cd');
    expect(indexOf(bytes, new TextEncoder().encode('::'))).toBe(2);
    expect(indexOf(bytes, new TextEncoder().encode(';;'))).toBe(-1);
  });
});
