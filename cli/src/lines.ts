/**
 * Splits a byte stream into lines on `\n`, without decoding: the bytes of each line come
 * out exactly as they went in (a `\r` stays, invalid UTF-8 stays). A last line without a
 * newline is a line; the empty "line" after a final newline is not.
 */
export async function* splitLines(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  let carry: Uint8Array | undefined;
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
    let start = 0;
    let newline = bytes.indexOf(0x0a, start);
    while (newline >= 0) {
      const piece = bytes.subarray(start, newline);
      if (carry) {
        yield join(carry, piece);
        carry = undefined;
      } else {
        yield piece;
      }
      start = newline + 1;
      newline = bytes.indexOf(0x0a, start);
    }
    if (start < bytes.length) {
      const rest = bytes.slice(start);
      carry = carry ? join(carry, rest) : rest;
    }
  }
  if (carry) yield carry;
}

const join = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
};

/** The first index of `needle` in `haystack`, or -1. */
export const indexOf = (haystack: Uint8Array, needle: Uint8Array): number => {
  if (needle.length === 1) return haystack.indexOf(needle[0] ?? 0);
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
};
