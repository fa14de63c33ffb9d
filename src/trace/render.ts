// The swim lane: one column per CPU or actor, one row per step, with what the step changed in
// the machine, and the violated invariant explained at the end.
import type { Failure } from '../engine/execution.js';
import type { TraceStep } from '../engine/explore.js';
import { safeText } from '../schema/text.js';
import { snapshotChanges } from './diff.js';

const COL = 30;

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = '';
    }
    line = line ? `${line} ${word}` : word;
    while (line.length > width) {
      out.push(line.slice(0, width));
      line = line.slice(width);
    }
  }
  if (line) out.push(line);
  return out.length ? out : [''];
}

export function swimLane(threads: readonly string[], trace: readonly TraceStep[], snapshots: readonly unknown[], failure: Failure | null): string {
  const used = [...new Set(trace.map((s) => s.tid))].sort((a, b) => a - b);
  const lanes = used.length ? used : threads.map((_, i) => i);
  const head = `step  ${lanes.map((t) => safeText(threads[t] ?? `t${t}`).padEnd(COL)).join(' │ ')}`;
  const lines = [head, '-'.repeat(head.length)];
  trace.forEach((s, i) => {
    // Labels and notes come from model code (and, through traces, from files): no raw escapes.
    const text = safeText(s.note ? `${s.label} → ${s.note}` : s.label);
    const cell = wrap(text, COL);
    cell.forEach((c, k) => {
      const cols = lanes.map((t) => (t === s.tid ? c : '').padEnd(COL));
      lines.push(`${k === 0 ? String(i + 1).padStart(4) : '    '}  ${cols.join(' │ ')}`.trimEnd());
    });
    const changes = snapshots.length > i + 1 ? snapshotChanges(snapshots[i], snapshots[i + 1]) : [];
    for (const ch of changes) lines.push(`        · ${safeText(ch)}`);
  });
  lines.push('');
  if (failure) lines.push(explain(failure, trace.length));
  else lines.push(`no violation after ${trace.length} steps`);
  return lines.join('\n');
}

export function explain(f: Failure, steps: number): string {
  return safeText(explainRaw(f, steps));
}

function explainRaw(f: Failure, steps: number): string {
  switch (f.kind) {
    case 'invariant':
      return `VIOLATION after step ${steps}: invariant ${f.invariant}\n  ${f.message}`;
    case 'deadlock':
      return `DEADLOCK after step ${steps}: ${f.message}`;
    case 'step-bound':
      return `STEP BOUND after step ${steps}: ${f.message}`;
    case 'error':
      return `MODEL ERROR at step ${steps}: ${f.message}`;
  }
}
