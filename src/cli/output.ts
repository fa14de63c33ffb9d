// Files the CLI writes: atomically (temp file beside the target, then rename), never leaving
// the temp file behind — not on an error, not on Ctrl-C or SIGTERM arriving mid-write — and
// XML text that stays well-formed whatever a model's messages contain (junit.ts).
import { renameSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../model.js';
import { quoteField } from '../schema/text.js';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Writes `text` to `file` atomically. A signal that arrives while writing is held until the
 * temp file is renamed or removed, then delivered again (if nobody else listens for it).
 */
export function writeAtomic(file: string, text: string): void {
  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.tmp`);
  const held: NodeJS.Signals[] = [];
  const hold = (s: NodeJS.Signals) => void held.push(s);
  for (const s of SIGNALS) process.on(s, hold);
  try {
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(tmp, text);
    renameSync(tmp, abs);
  } catch (e) {
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
    throw new UsageError(`cannot write ${quoteField(file)} (${quoteField(code, 60)})`);
  } finally {
    for (const s of SIGNALS) process.off(s, hold);
    for (const s of new Set(held)) if (process.listenerCount(s) === 0) process.kill(process.pid, s);
  }
}

/** XML 1.0 allows tab, newline and carriage return below U+0020, and no unpaired surrogate. */
const XML_INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function xmlText(s: string): string {
  return s
    .replace(XML_INVALID, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
