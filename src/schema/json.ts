// JSON from files mmcheck did not necessarily write (traces, checkpoints): a size limit, a
// nesting limit checked *before* parsing (a 5,000-deep document is refused in one line instead
// of overflowing some recursive validator), no prototype keys, and a UTF-8 BOM tolerated
// (editors on Windows add one).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface JsonLimits {
  /** Largest accepted text, in UTF-16 code units (about bytes for JSON). */
  readonly maxChars: number;
  /** Deepest accepted nesting of objects and arrays. */
  readonly maxDepth: number;
}

/** Keys that would reach Object.prototype if some later code copied the object naively. */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export class JsonInputError extends Error {}

/** Nesting depth of a JSON text, stopping as soon as it passes `limit` (linear, no recursion). */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** Parses `text` as JSON within `limits`; every defect is a JsonInputError saying what. */
export function parseJsonText(text: string, what: string, limits: JsonLimits): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.length > limits.maxChars) throw new JsonInputError(`${what} is too large (${body.length} characters; at most ${limits.maxChars})`);
  if (jsonDepthExceeds(body, limits.maxDepth)) throw new JsonInputError(`${what} nests deeper than ${limits.maxDepth} levels`);
  try {
    return JSON.parse(body, (key, value: unknown) => {
      if (PROTOTYPE_KEYS.has(key)) throw new JsonInputError(`${what} has a key named "${key}", which is never valid here`);
      return value;
    });
  } catch (e) {
    if (e instanceof JsonInputError) throw e;
    throw new JsonInputError(`${what} is not JSON (${e instanceof Error ? e.message.slice(0, 200) : String(e)})`);
  }
}

/**
 * Reads a whole text file, refusing one larger than `maxBytes` before reading it (a 10 GB file
 * must not be loaded to be rejected). Errors are one line naming the file.
 */
export function readTextFile(file: string, what: string, maxBytes: number): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    throw new JsonInputError(`cannot read ${what} file ${file}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new JsonInputError(`${what} file ${file} is a directory`);
    if (st.size > maxBytes) throw new JsonInputError(`${what} file ${file} is too large (${st.size} bytes; at most ${maxBytes})`);
    // Read in chunks up to the limit: special files report size 0 yet have content.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(1 << 16);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw new JsonInputError(`${what} file ${file} is too large (more than ${maxBytes} bytes)`);
      chunks.push(buf.subarray(0, n));
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (e) {
    if (e instanceof JsonInputError) throw e;
    throw new JsonInputError(`cannot read ${what} file ${file}`);
  } finally {
    closeSync(fd);
  }
}
