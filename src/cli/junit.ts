// JUnit XML as CI systems read it (Jenkins, GitLab, GitHub reporters): a <testsuites> root with
// the totals, one <testsuite> per model, one <testcase> per variant. A variant that showed
// something other than it declares is a <failure>; a model that threw is an <error> (the model
// is broken, not the kernel algorithm); a search cut short (bounded, interrupted) proved
// nothing and is <skipped>. A failure's body ends with the trace file and the replay command.
import type { ModelResult } from '../index.js';
import { expectationText } from '../model.js';
import { xmlText } from './output.js';

/** Attribute values also keep their line breaks (a literal newline there reads as a space). */
const xmlAttr = (s: string) => xmlText(s).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');

/** What a finished variant's trace is: its file and the command that replays it. */
export interface TraceRef {
  readonly file: string;
  readonly replay: string;
}

type Outcome = { readonly kind: 'passed' } | { readonly kind: 'failure' | 'error' | 'skipped'; readonly message: string; readonly body: string };

function outcome(r: ModelResult, trace: TraceRef | undefined): Outcome {
  if (r.verdict === 'bounded' || r.verdict === 'interrupted') {
    if (r.asExpected) return { kind: 'passed' };
    return { kind: 'skipped', message: `${r.verdict}: ${r.cut ?? 'the search did not finish'}`, body: '' };
  }
  if (r.asExpected) return { kind: 'passed' };
  const got = r.violation ? `violated ${r.violation.invariant}` : r.verdict;
  const message = `expected ${expectationText(r.expected)}, got ${got}`;
  const lines = [message];
  if (r.violation) lines.push(r.violation.message, `counterexample: ${r.violation.schedule.length} steps, ${r.violation.preemptions} preemptions`);
  else lines.push(`no violation in ${r.executions} executions (${r.strategy})`);
  if (trace) lines.push(`trace: ${trace.file}`, `replay: ${trace.replay}`);
  return { kind: r.violation?.kind === 'error' ? 'error' : 'failure', message, body: lines.join('\n') };
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  time: number;
}

const counted = (cases: readonly { r: ModelResult; o: Outcome }[]): Counts => ({
  tests: cases.length,
  failures: cases.filter((c) => c.o.kind === 'failure').length,
  errors: cases.filter((c) => c.o.kind === 'error').length,
  skipped: cases.filter((c) => c.o.kind === 'skipped').length,
  time: cases.reduce((t, c) => t + c.r.elapsedMs, 0) / 1000,
});

const attrs = (c: Counts) => `tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}" time="${c.time.toFixed(3)}"`;

function testcase(r: ModelResult, o: Outcome): string {
  const head = `    <testcase classname="mmcheck.${xmlAttr(r.model)}" name="${xmlAttr(`${r.model}/${r.variant}`)}" time="${(r.elapsedMs / 1000).toFixed(3)}"`;
  if (o.kind === 'passed') return `${head}/>`;
  if (o.kind === 'skipped') return `${head}>\n      <skipped message="${xmlAttr(o.message)}"/>\n    </testcase>`;
  const type = o.kind === 'error' ? 'model-error' : 'unexpected-verdict';
  return `${head}>\n      <${o.kind} message="${xmlAttr(o.message)}" type="${type}">${xmlText(o.body)}</${o.kind}>\n    </testcase>`;
}

export function junitXml(results: readonly ModelResult[], traces: ReadonlyMap<ModelResult, TraceRef> = new Map()): string {
  const cases = results.map((r) => ({ r, o: outcome(r, traces.get(r)) }));
  const models = [...new Set(results.map((r) => r.model))];
  const suites = models.map((m) => {
    const mine = cases.filter((c) => c.r.model === m);
    return `  <testsuite name="mmcheck.${xmlAttr(m)}" ${attrs(counted(mine))}>\n${mine.map((c) => testcase(c.r, c.o)).join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="mmcheck" ${attrs(counted(cases))}>\n${suites.join('\n')}\n</testsuites>\n`;
}
