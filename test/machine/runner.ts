// A tiny hand-driven scheduler for scenario tests: step threads by name, in the order the test
// says, and see each step's label, note and footprint.
import { type Access, type Program, type Step, type ThreadBody, footprintOf } from '../../src/engine/types.js';

export interface Ran {
  readonly thread: string;
  readonly label: string;
  readonly note?: string;
  readonly footprint: readonly Access[];
  readonly result: unknown;
}

interface T {
  readonly name: string;
  readonly gen: ThreadBody;
  pending: Step | null;
}

export class Runner {
  readonly log: Ran[] = [];
  private readonly threads = new Map<string, T>();

  constructor(readonly program: Program) {
    for (const spec of program.threads) {
      const gen = spec.body();
      const first = gen.next();
      this.threads.set(spec.name, { name: spec.name, gen, pending: first.done ? null : first.value });
    }
  }

  private get(name: string): T {
    const t = this.threads.get(name);
    if (!t) throw new Error(`no thread ${name}; have ${[...this.threads.keys()].join(', ')}`);
    return t;
  }
  pending(name: string): Step | null {
    return this.get(name).pending;
  }
  done(name: string): boolean {
    return this.get(name).pending === null;
  }
  enabled(name: string): boolean {
    const s = this.get(name).pending;
    return s !== null && (s.enabled ? s.enabled() : true);
  }
  /** Run one step of `name`; throws when it is finished or disabled. */
  step(name: string): Ran {
    const t = this.get(name);
    const s = t.pending;
    if (!s) throw new Error(`${name} has finished`);
    if (s.enabled && !s.enabled()) throw new Error(`${name}'s step "${s.label}" is disabled`);
    const footprint = footprintOf(s);
    const result = s.run();
    const ran: Ran = { thread: name, label: s.label, note: s.note, footprint, result };
    this.log.push(ran);
    const next = t.gen.next(result);
    t.pending = next.done ? null : next.value;
    return ran;
  }
  /** Step `name` n times. */
  steps(name: string, n: number): Ran[] {
    return Array.from({ length: n }, () => this.step(name));
  }
  /** Step `name` until it finishes. */
  finish(name: string): Ran[] {
    const out: Ran[] = [];
    while (!this.done(name)) out.push(this.step(name));
    return out;
  }
  /** Step `name` until its pending step's label contains `text` (not run). */
  until(name: string, text: string): Ran[] {
    const out: Ran[] = [];
    while (!this.done(name) && !this.pending(name)!.label.includes(text)) out.push(this.step(name));
    if (this.done(name)) throw new Error(`${name} finished before a step labelled "${text}"`);
    return out;
  }
}

/** Locations written by a list of steps. */
export const writes = (rs: readonly Ran[]): string[] => rs.flatMap((r) => r.footprint.filter((a) => a.write).map((a) => a.loc));
export const touched = (rs: readonly Ran[]): string[] => rs.flatMap((r) => r.footprint.map((a) => a.loc));
