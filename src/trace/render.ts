// The swim lane: one column per CPU or actor, one row per step, with what the step changed in
// the machine, and the violated invariant explained at the end.
import type { Failure } from '../engine/execution.js';
import type { TraceStep } from '../engine/explore.js';
import { safeText } from '../schema/text.js';
import { snapshotChanges } from './diff.js';
import { wrap } from './wrap.js';

/** Lanes are as wide as this when the width allows, and never narrower than MIN_COL. */
const COL = 30;
const MIN_COL = 12;
const STEP = 6; // "  12  " before the first lane
const SEP = ' │ ';

/**
 * Lane widths that fit `width` columns: each lane asks for what its longest entry needs (up to
 * COL), and the widest lanes give up space first — an IPI actor's short lines keep their lane
 * narrow and leave the room to the CPUs whose labels are long.
 */
export function laneWidths(wants: readonly number[], width: number): number[] {
  const widths = wants.map((w) => Math.max(MIN_COL, Math.min(COL, w)));
  const budget = width - STEP - SEP.length * (widths.length - 1);
  for (let total = widths.reduce((a, b) => a + b, 0); total > budget; total--) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest]! <= MIN_COL) break;
    widths[widest]!--;
  }
  return widths;
}

/** The swim lane, fitted to `width` columns (lanes narrow and wrap; a lane name is cut with …). */
export function swimLane(threads: readonly string[], trace: readonly TraceStep[], snapshots: readonly unknown[], failure: Failure | null, width = 100): string {
  const used = [...new Set(trace.map((s) => s.tid))].sort((a, b) => a - b);
  const lanes = used.length ? used : threads.map((_, i) => i);
  // Labels and notes come from model code (and, through traces, from files): no raw escapes.
  const texts = trace.map((s) => safeText(s.note ? `${s.label} → ${s.note}` : s.label));
  const names = lanes.map((t) => safeText(threads[t] ?? `t${t}`));
  const wants = lanes.map((t, j) => Math.max(names[j]!.length, ...texts.filter((_, i) => trace[i]!.tid === t).map((x) => x.length)));
  const cols = laneWidths(wants, width);
  const colOf = new Map(lanes.map((t, j) => [t, cols[j]!]));
  const name = (n: string, w: number) => (n.length > w ? `${n.slice(0, w - 1)}…` : n).padEnd(w);
  const head = `step  ${names.map((n, j) => name(n, cols[j]!)).join(SEP)}`.trimEnd();
  const lines = [head, '-'.repeat(STEP + cols.reduce((a, b) => a + b, 0) + SEP.length * (lanes.length - 1))];
  trace.forEach((s, i) => {
    const cell = wrap(texts[i]!, colOf.get(s.tid)!);
    cell.forEach((c, k) => {
      const cols = lanes.map((t) => (t === s.tid ? c : '').padEnd(colOf.get(t)!));
      lines.push(`${k === 0 ? String(i + 1).padStart(4) : '    '}  ${cols.join(SEP)}`.trimEnd());
    });
    const changes = snapshots.length > i + 1 ? snapshotChanges(snapshots[i], snapshots[i + 1]) : [];
    for (const ch of changes) wrap(safeText(ch), Math.max(20, width - 10)).forEach((l, k) => lines.push(`${k === 0 ? '        · ' : '          '}${l}`));
  });
  lines.push('');
  const end = failure ? explain(failure, trace.length) : `no violation after ${trace.length} steps`;
  for (const l of end.split('\n')) {
    const indent = /^\s*/.exec(l)![0];
    lines.push(...wrap(l, width - indent.length).map((w) => indent + w));
  }
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
