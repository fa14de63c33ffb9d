// What `mmcheck explore` prints: one line per result, a summary table, or one JSON document.
import type { ModelResult } from '../index.js';
import type { MemoryModel } from '../machine/tso/store-buffer.js';
import { expectationText } from '../model.js';
import type { TraceRef } from './junit.js';
import { seconds, table } from './table.js';
import { safeLine } from '../schema/text.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  readonly isTTY: boolean;
  /** The terminal's width in columns (or --width); undefined: not a terminal. */
  readonly columns?: number;
  /** Colour stdout (colour.ts: a terminal, NO_COLOR, FORCE_COLOR). */
  readonly color?: boolean;
}

/** Columns to fit tables and swim lanes to: a pipe, a file or a CI log gets 100. */
export const widthOf = (io: Io): number => io.columns ?? 100;

export { VERSION } from '../schema/version.js';
import { VERSION } from '../schema/version.js';

/** JSON for a terminal: JSON.stringify escapes C0 controls; this also escapes C1 and bidi
 * controls (as \uXXXX, still valid JSON, same strings) so the output never steers a terminal. */
export function jsonText(x: unknown): string {
  return JSON.stringify(x, null, 2).replace(/[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function jsonReport(results: readonly ModelResult[], traces: ReadonlyMap<ModelResult, TraceRef>, interrupted: boolean, seed?: string, memoryModel?: MemoryModel) {
  return {
    mmcheck: VERSION,
    // The memory model of the machines whose model names none (a model's own choice, such as a
    // parameter of it, is in `params`).
    ...(memoryModel === undefined ? {} : { memoryModel }),
    ...(seed !== undefined && results.some((r) => r.strategy === 'random' || r.strategy === 'pct') ? { seed } : {}),
    ok: results.every((r) => r.asExpected),
    interrupted,
    results: results.map((r) => ({
      model: r.model,
      variant: r.variant,
      params: r.params,
      expected: expectationText(r.expected),
      verdict: r.verdict,
      asExpected: r.asExpected,
      strategy: r.strategy,
      executions: r.executions,
      blocked: r.blocked,
      sleepBlocked: r.sleepBlocked,
      steps: r.steps,
      restoredSteps: r.restoredSteps,
      ...(r.cache
        ? { states: r.cache.states, revisits: r.cache.revisits, stateCache: { mode: r.cache.mode, bytes: r.cache.bytes, collisionProbability: r.cache.collisionProbability } }
        : {}),
      ...(r.stateless ? { stateless: r.stateless } : {}),
      maxDepth: r.maxDepth,
      elapsedMs: Math.round(r.elapsedMs),
      ...(r.cut ? { cut: r.cut } : {}),
      ...(r.warnings?.length ? { warnings: r.warnings } : {}),
      ...(r.violation
        ? {
            violation: {
              kind: r.violation.kind,
              invariant: r.violation.invariant,
              message: r.violation.message,
              steps: r.violation.schedule.length,
              preemptions: r.violation.preemptions,
              ...(traces.has(r) ? { trace: traces.get(r)!.file, replay: traces.get(r)!.replay } : {}),
            },
          }
        : {}),
    })),
  };
}

function verdictText(r: ModelResult): string {
  if (r.verdict === 'violated') return `violated ${r.violation!.invariant}`;
  if (r.verdict === 'bounded') return `no violation (bounded: ${r.cut})`;
  // A bit array can take a new state for a visited one: the search may have missed states.
  if (r.verdict === 'holds' && r.cache?.mode === 'bitstate') return `holds (probabilistic: bitstate, P(miss) ≤ ${r.cache.collisionProbability.toExponential(1)})`;
  return r.verdict;
}

/** States stored and revisits pruned, for a search that kept states. */
function statesText(r: ModelResult): string {
  if (!r.cache) return r.stateless ? `; stateless: ${r.stateless}` : '';
  const c = r.cache;
  return `; ${c.states} states stored (${c.mode}, ${(c.bytes / 1048576).toFixed(1)} MB, P(collision) ≤ ${c.collisionProbability.toExponential(1)}), ${c.revisits} revisits pruned`;
}

/** The executions that ended without completing, when there were any. */
function ended(r: ModelResult): string {
  const parts = [r.blocked ? `${r.blocked} blocked by assume` : '', r.sleepBlocked ? `${r.sleepBlocked} sleep-blocked` : ''].filter(Boolean);
  return parts.length ? ` complete (${parts.join(', ')})` : '';
}

/** Sampling strategies draw their schedules from the seed: printed so a run can be repeated. */
const seedNote = (r: ModelResult, seed: string | undefined) => (seed !== undefined && (r.strategy === 'random' || r.strategy === 'pct') ? `, seed ${seed}` : '');

export function printOne(r: ModelResult, trace: TraceRef | undefined, io: Io, seed?: string): void {
  io.out(`${r.model}/${r.variant} ${JSON.stringify(r.params)} — ${verdictText(r)}`);
  for (const w of r.warnings ?? []) io.err(safeLine(`mmcheck: warning: ${r.model}/${r.variant}: ${w}`));
  io.out(`  ${r.executions} executions${ended(r)}, ${r.steps} steps${r.restoredSteps ? ` (+${r.restoredSteps} restored)` : ''}, ${seconds(r.elapsedMs)} (${r.strategy}${seedNote(r, seed)}; expected: ${expectationText(r.expected)}${statesText(r)})`);
  if (r.violation) {
    io.out(`  ${r.violation.message}`);
    io.out(`  counterexample: ${r.violation.schedule.length} steps, ${r.violation.preemptions} preemptions`);
    if (trace) io.out(`  trace written: ${trace.file}\n  replay it: ${trace.replay}`);
  }
}

export function printTable(results: readonly ModelResult[], traces: ReadonlyMap<ModelResult, TraceRef>, io: Io, seed?: string): void {
  const rows = results.map((r) => [
    r.model,
    r.variant,
    expectationText(r.expected),
    verdictText(r),
    r.cache ? String(r.cache.states) : '-',
    String(r.executions),
    String(r.steps),
    seconds(r.elapsedMs),
    r.asExpected ? 'ok' : 'UNEXPECTED',
  ]);
  // Blocked and sleep-blocked executions are in the one-line summary and --json.
  io.out(table(['model', 'variant', 'expected', 'verdict', 'states', 'executions', 'steps', 'time', ''], rows, widthOf(io)));
  for (const r of results) for (const w of r.warnings ?? []) io.err(safeLine(`mmcheck: warning: ${r.model}/${r.variant}: ${w}`));
  const bad = results.filter((r) => !r.asExpected).length;
  const sampled = results.find((r) => seedNote(r, seed));
  io.out(`\n${results.length} variants, ${results.length - bad} as expected, ${bad} not${sampled ? `; ${sampled.strategy}${seedNote(sampled, seed)} (--seed ${seed} repeats this run)` : ''}`);
  const written = [...traces.values()];
  if (written.length) io.out(`traces written: ${written.map((t) => t.file).join(', ')}`);
  for (const t of written) io.out(`  replay: ${t.replay}`);
}

