// Files the CLI writes: traces (atomically: temp file + rename) and JUnit reports.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ModelResult } from '../index.js';
import { expectationText } from '../model.js';

export function writeAtomic(file: string, text: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function junitXml(results: readonly ModelResult[]): string {
  const failures = results.filter((r) => !r.asExpected).length;
  const total = results.reduce((t, r) => t + r.elapsedMs, 0) / 1000;
  const cases = results.map((r) => {
    const name = `${r.model}/${r.variant}`;
    const time = (r.elapsedMs / 1000).toFixed(3);
    const body = r.asExpected
      ? ''
      : `\n    <failure message="${esc(`expected ${expectationText(r.expected)}, got ${r.verdict}${r.violation ? ` (${r.violation.invariant})` : ''}`)}">${esc(r.violation?.message ?? r.cut ?? '')}</failure>\n  `;
    return `  <testcase classname="mmcheck.${esc(r.model)}" name="${esc(name)}" time="${time}">${body}</testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="mmcheck" tests="${results.length}" failures="${failures}" time="${total.toFixed(3)}">\n${cases.join('\n')}\n</testsuite>\n`;
}
