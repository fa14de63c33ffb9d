// Mazurkiewicz traces: two executions are equivalent when one can be turned into the other by
// swapping adjacent independent steps. The canonical form of an execution is the least
// linearisation (by thread id) of its happens-before order; counting distinct canonical forms
// over all executions counts the truly different interleavings DPOR must cover.
import type { EventRecord } from './execution.js';
import { Dependence } from './dependence.js';

export function canonicalForm(events: readonly EventRecord[], dep: Dependence): string {
  const n = events.length;
  const preds: number[][] = events.map(() => []);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < j; i++) {
      const a = events[i]!;
      const b = events[j]!;
      if (a.tid === b.tid || dep.dependent(a.footprint, b.footprint)) preds[j]!.push(i);
    }
  }
  const placed = new Array<boolean>(n).fill(false);
  const out: string[] = [];
  for (let k = 0; k < n; k++) {
    let best = -1;
    for (let j = 0; j < n; j++) {
      if (placed[j] || !preds[j]!.every((i) => placed[i])) continue;
      if (best < 0 || events[j]!.tid < events[best]!.tid) best = j;
    }
    placed[best] = true;
    out.push(`${events[best]!.tid}:${events[best]!.label}`);
  }
  return out.join(' ');
}
