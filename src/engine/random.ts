// Seeded random walks: each execution picks uniformly among the enabled threads. For models too
// large to exhaust; never proves absence of bugs.
import seedrandom from 'seedrandom';
import type { Execution } from './execution.js';
import type { Strategy } from './strategy.js';
import { parseState, randomState } from './checkpoint-schema.js';
import type { ThreadId } from './types.js';

export class RandomStrategy implements Strategy {
  readonly name = 'random';
  readonly exhaustive = false;
  readonly cut: string;
  private rng: seedrandom.StatefulPRNG<seedrandom.State.Arc4>;
  private runs = 0;

  constructor(seed: string, private readonly executions: number) {
    this.rng = seedrandom(`random:${seed}`, { state: true });
    this.cut = `random sampling of ${executions} executions (seed ${seed})`;
  }

  beginExecution(): boolean {
    return this.runs++ < this.executions;
  }

  choose(_exec: Execution, enabled: readonly ThreadId[]): ThreadId {
    return enabled[Math.floor(this.rng() * enabled.length)]!;
  }

  endExecution(): void {}

  save(): unknown {
    return { runs: this.runs, rng: this.rng.state() };
  }

  restore(state: unknown): void {
    const s = parseState(randomState, state, this.name);
    this.runs = s.runs;
    this.rng = seedrandom('', { state: s.rng });
  }
}
