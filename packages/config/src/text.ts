/**
 * From the bytes of a configuration file to the text the YAML reader gets: UTF-8 only (a file
 * that is not is an error at its first bad byte, never silently U+FFFD), no byte order mark, and
 * line breaks as YAML defines them (CR, LF or CRLF; the `yaml` package does not take a lone CR
 * for one, so a file saved with classic Mac line ends would read as one long comment). Pure.
 */
import type { ConfigIssue } from './errors.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Offset of the first byte that does not start a valid UTF-8 sequence, or -1 when all are valid. */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    // The well-formed sequences of the Unicode standard (table 3-7): no overlong forms, no
    // surrogates, nothing above U+10FFFF.
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < lo || c > hi) return i;
      lo = 0x80;
      hi = 0xbf;
    }
    i += need + 1;
  }
  return -1;
}

/** Line and column (1-based, columns in UTF-16 units as everywhere else) of a byte offset of valid UTF-8 before it. */
function bytePosition(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    const b = bytes[i];
    if (b === 0x0a || (b === 0x0d && bytes[i + 1] !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  let prefix = lenientUtf8.decode(bytes.subarray(lineStart, offset));
  if (lineStart === 0 && prefix.charCodeAt(0) === 0xfeff) prefix = prefix.slice(1);
  return { line, column: prefix.length + 1 };
}

/**
 * Decodes a file's bytes as UTF-8 and drops a byte order mark. Returns the text, or the issue
 * that locates the first byte that is not UTF-8.
 */
export function decodeConfigBytes(
  bytes: Uint8Array,
  file: string,
): { text: string } | { issue: ConfigIssue } {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    const offset = Math.max(0, invalidUtf8Offset(bytes));
    const byte = bytes[offset] ?? 0;
    return {
      issue: {
        code: 'OCNE_CONFIG_SYNTAX',
        severity: 'error',
        file,
        ...bytePosition(bytes, offset),
        message: `not valid UTF-8: byte 0x${byte.toString(16).padStart(2, '0').toUpperCase()} (at byte ${offset}) is not part of a UTF-8 character; save the file as UTF-8`,
      },
    };
  }
  return { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
}

/** Offset of the first lone surrogate of a string (text no UTF-8 file can hold), or -1. */
export function loneSurrogateOffset(text: string): number {
  if (text.isWellFormed()) return -1;
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.exec(text)?.index ?? -1;
}

/** Turns each lone CR into LF. Offsets stay the same, so positions in the result are positions in the file. */
export function normalizeLineBreaks(text: string): string {
  return text.includes('\r') ? text.replace(/\r(?!\n)/g, '\n') : text;
}
