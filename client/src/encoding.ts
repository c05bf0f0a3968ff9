/** Wire encoding helpers: UTF-8 sizes and base64 without Node's Buffer. */

/** Bytes of a string's UTF-8 encoding, without encoding it. */
export const utf8Length = (s: string): number => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Base64 of bytes. */
export const bytesToBase64 = (bytes: Uint8Array): string => {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
};

/** Bytes of base64. */
export const base64ToBytes = (s: string): Uint8Array => {
  const binary = atob(s);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
};

/** A value for a base64 request: strings are UTF-8 encoded first. */
export const toBase64 = (v: string | Uint8Array): string =>
  bytesToBase64(typeof v === 'string' ? encoder.encode(v) : v);

/** UTF-8 text of bytes. */
export const bytesToText = (b: Uint8Array): string => decoder.decode(b);

/** Byte size of a key, value or header value. */
export const byteLength = (v: string | Uint8Array | null | undefined): number =>
  v == null ? 0 : typeof v === 'string' ? utf8Length(v) : v.byteLength;
