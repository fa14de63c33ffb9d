// Colour on a terminal (picocolors), applied as the last stage of printing, after control
// characters from models were escaped: what a verdict says is marked — `ok` green,
// `UNEXPECTED` and a violation red. NO_COLOR (any value) turns it off, FORCE_COLOR (not 0) on;
// otherwise only a terminal gets colour (never a pipe, a file or a CI log, whatever CI says).
import { createColors } from 'picocolors';

export function colourWanted(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return isTTY && env.TERM !== 'dumb';
}

type Paint = (s: string) => string;

/** Marks the verdict words of mmcheck's own output lines (table rows, summaries, swim lanes). */
export function colourer(enabled: boolean): (text: string) => string {
  if (!enabled) return (t) => t;
  const c = createColors(true);
  const bad: Paint = (s) => c.bold(c.red(s));
  const rules: readonly [RegExp, (m: string, ...g: string[]) => string][] = [
    [/(\s)(ok)$/, (_m, sp, w) => `${sp}${c.green(w!)}`],
    [/(\s)(UNEXPECTED)$/, (_m, sp, w) => `${sp}${bad(w!)}`],
    [/^(VIOLATION|DEADLOCK|STEP BOUND|MODEL ERROR)( (after|at) step \d+)/, (_m, w, rest) => `${bad(w!)}${rest}`],
    [/ — (violated \S+)$/, (_m, w) => ` — ${c.red(w!)}`],
    [/ — (holds)$/, (_m, w) => ` — ${c.green(w!)}`],
    [/^(\d+ variants, \d+ as expected, )([1-9]\d* not)/, (_m, a, b) => `${a}${bad(b!)}`],
  ];
  return (text) =>
    text
      .split('\n')
      .map((line) => rules.reduce((l, [re, f]) => l.replace(re, f as (m: string, ...g: string[]) => string), line))
      .join('\n');
}
