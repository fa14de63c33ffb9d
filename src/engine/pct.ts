// PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS'10): random distinct thread
// priorities, always run the highest-priority enabled thread, and at d-1 random steps lower the
// running thread below everyone. Finds any bug of depth d with probability >= 1/(n k^(d-1)).
import seedrandom from 'seedrandom';
import type { EventRecord, Execution } from './execution.js';
import type { Strategy } from './strategy.js';
import { parseState, pctState } from './checkpoint-schema.js';
import type { ThreadId } from './types.js';

export class PctStrategy implements Strategy {
  readonly name = 'pct';
  readonly exhaustive = false;
  readonly cut: string;
  private rng: seedrandom.StatefulPRNG<seedrandom.State.Arc4>;
  private runs = 0;
  private priority: number[] = [];
  private changePoints: number[] = [];
  private stepNo = 0;
  /** Estimate of an execution's length (k in the paper), refined from executions seen. */
  private maxLength: number;

  constructor(seed: string, private readonly executions: number, private readonly depth: number, initialLength = 64) {
    this.rng = seedrandom(`pct:${seed}`, { state: true });
    this.maxLength = initialLength;
    this.cut = `PCT sampling of ${executions} executions (depth ${depth}, seed ${seed})`;
  }

  beginExecution(): boolean {
    if (this.runs++ >= this.executions) return false;
    this.priority = [];
    this.stepNo = 0;
    this.changePoints = [];
    for (let i = 0; i < this.depth - 1; i++) this.changePoints.push(1 + Math.floor(this.rng() * this.maxLength));
    return true;
  }

  choose(exec: Execution, enabled: readonly ThreadId[]): ThreadId {
    if (this.priority.length === 0) this.assignPriorities(exec.threadCount);
    let best = enabled[0]!;
    for (const t of enabled) if (this.priority[t]! > this.priority[best]!) best = t;
    return best;
  }

  afterStep(_exec: Execution, event: EventRecord): void {
    this.stepNo++;
    const i = this.changePoints.indexOf(this.stepNo);
    // Priorities below the initial ones (which start at depth) — lower than every thread.
    if (i >= 0) this.priority[event.tid] = this.depth - 1 - i;
  }

  endExecution(exec: Execution): void {
    this.maxLength = Math.max(this.maxLength, exec.events.length);
  }

  save(): unknown {
    return { runs: this.runs, maxLength: this.maxLength, rng: this.rng.state() };
  }

  restore(state: unknown): void {
    const s = parseState(pctState, state, this.name);
    this.runs = s.runs;
    this.maxLength = s.maxLength;
    this.rng = seedrandom('', { state: s.rng });
  }

  private assignPriorities(n: number): void {
    // A random permutation of depth .. depth+n-1 (Fisher–Yates on the seeded stream).
    const p = Array.from({ length: n }, (_, i) => this.depth + i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.rng() * (i + 1));
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    this.priority = p;
  }
}
