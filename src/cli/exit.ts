// Exit statuses CI can rely on, one meaning each (README: "Exit codes").
import type { ModelResult } from '../index.js';

export const EXIT = {
  /** Every variant showed what it declares; for one variant: no violation, search complete. */
  ok: 0,
  /** A violation (one variant), or a variant that did not show what it declares. */
  violation: 1,
  /** Bad usage or input: flags, models, traces, checkpoints, output paths. */
  usage: 2,
  /** A bug in mmcheck. */
  internal: 3,
  /** No violation found, but the search was cut short (a limit, a bound, sampling): unproven. */
  bounded: 4,
  /** Stopped by Ctrl-C (SIGINT) or SIGTERM: 128 + the signal number. */
  sigint: 130,
  sigterm: 143,
} as const;

export type Signal = 'SIGINT' | 'SIGTERM';

export const signalStatus = (s: Signal): number => (s === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);

/** A second Ctrl-C (or SIGTERM): stop now, without a checkpoint. */
export class Aborted extends Error {
  constructor(readonly signal: Signal) {
    super('aborted (no checkpoint written)');
  }
}

/**
 * The status of a finished (not interrupted) explore. One variant: its verdict. Several: 0 when
 * every variant showed what it declares; else 1 if any result is a wrong verdict of a complete
 * search (or a violation), 4 if every miss is a search cut short.
 */
export function exploreStatus(results: readonly ModelResult[], single: boolean): number {
  if (single) {
    const r = results[0]!;
    if (r.verdict === 'violated') return EXIT.violation;
    return r.verdict === 'bounded' ? EXIT.bounded : EXIT.ok;
  }
  const misses = results.filter((r) => !r.asExpected);
  if (misses.length === 0) return EXIT.ok;
  return misses.every((r) => r.verdict === 'bounded') ? EXIT.bounded : EXIT.violation;
}
