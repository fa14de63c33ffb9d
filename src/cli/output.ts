// Files the CLI writes: atomically (temp file beside the target, then rename), never leaving
// the temp file behind — not on an error, not on Ctrl-C or SIGTERM arriving mid-write — and
// JUnit reports that stay well-formed XML whatever a model's messages contain.
import { renameSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ModelResult } from '../index.js';
import { expectationText, UsageError } from '../model.js';
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

/** Attribute values also keep their line breaks (a literal newline there reads as a space). */
const xmlAttr = (s: string) => xmlText(s).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');

export function junitXml(results: readonly ModelResult[]): string {
  const failures = results.filter((r) => !r.asExpected).length;
  const total = results.reduce((t, r) => t + r.elapsedMs, 0) / 1000;
  const cases = results.map((r) => {
    const name = `${r.model}/${r.variant}`;
    const time = (r.elapsedMs / 1000).toFixed(3);
    const message = `expected ${expectationText(r.expected)}, got ${r.verdict}${r.violation ? ` (${r.violation.invariant})` : ''}`;
    const body = r.asExpected ? '' : `\n    <failure message="${xmlAttr(message)}">${xmlText(r.violation?.message ?? r.cut ?? '')}</failure>\n  `;
    return `  <testcase classname="mmcheck.${xmlAttr(r.model)}" name="${xmlAttr(name)}" time="${time}">${body}</testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="mmcheck" tests="${results.length}" failures="${failures}" time="${total.toFixed(3)}">\n${cases.join('\n')}\n</testsuite>\n`;
}
