// Plain exhaustive DFS over schedules, stateless: every execution replays its prefix from the
// initial state. With a preemption bound it prunes schedules that switch away from a thread
// that could have gone on more than `bound` times.
import type { Execution } from './execution.js';
import { CheckpointError, checkResumed, type PinnedNode, type Strategy } from './strategy.js';
import { dfsState, parseState } from './checkpoint-schema.js';
import type { ThreadId } from './types.js';
import { truncate } from './arrays.js';

interface Node {
  readonly options: readonly ThreadId[];
  index: number;
  readonly preemptions: number; // preemptions used before this choice
  readonly prev: ThreadId | null;
}

export class DfsStrategy implements Strategy {
  readonly name: string;
  private readonly stack: Node[] = [];
  private depth = 0;
  /** Set by `restore` until the first execution has replayed the saved stack. */
  private verifying = false;
  private started = false;
  /** Set when the bound removed at least one choice: the search was not exhaustive. */
  pruned = false;

  constructor(private readonly preemptionBound: number = Infinity) {
    this.name = Number.isFinite(preemptionBound) ? `dfs(preemptions<=${preemptionBound})` : 'dfs';
  }

  get exhaustive(): boolean {
    return !this.pruned;
  }

  get cut(): string | undefined {
    return this.pruned ? `preemption bound ${this.preemptionBound}` : undefined;
  }

  beginExecution(): boolean {
    this.depth = 0;
    if (!this.started) {
      this.started = true;
      return true;
    }
    // Backtrack: advance the deepest node that still has an untried option.
    while (this.stack.length > 0) {
      const top = this.stack[this.stack.length - 1]!;
      if (top.index + 1 < top.options.length) {
        top.index++;
        return true;
      }
      this.stack.pop();
    }
    return false;
  }

  replayedPrefix(): number {
    return Math.max(0, this.stack.length - 1);
  }

  skipPrefix(k: number): void {
    this.depth = k;
  }

  choose(_exec: Execution, enabled: readonly ThreadId[]): ThreadId | null {
    const d = this.depth++;
    if (d < this.stack.length) {
      const node = this.stack[d]!;
      // After a resume, the saved stack must be this program's (a bound leaves one option).
      if (this.verifying && !(node.options.length === 1 && enabled.includes(node.options[0]!))) checkResumed(this.name, d, node.options, enabled);
      return node.options[node.index]!;
    }
    const parent = this.stack[d - 1];
    const prev = parent ? parent.options[parent.index]! : null;
    const used = parent ? parent.preemptions + (isPreemption(parent.prev, parent.options[parent.index]!, parent.options) ? 1 : 0) : 0;
    let options = enabled;
    if (prev !== null && enabled.includes(prev) && used >= this.preemptionBound) {
      // Continuing `prev` is free; any other choice would be one preemption too many.
      if (enabled.length > 1) this.pruned = true;
      options = [prev];
    }
    this.stack.push({ options: [...options], index: 0, preemptions: used, prev });
    return options[0]!;
  }

  save(): unknown {
    return { started: this.started, pruned: this.pruned, stack: this.stack.map((n) => ({ ...n, options: [...n.options] })) };
  }

  restore(state: unknown): void {
    // Validated as a whole before anything changes: a damaged stack restores nothing.
    const s = parseState(dfsState, state, this.name);
    const over = s.stack.findIndex((n) => n.preemptions > this.preemptionBound);
    if (over >= 0) throw new CheckpointError(`checkpoint state of ${this.name} field "stack.${over}": ${s.stack[over]!.preemptions} preemptions exceed the bound`);
    this.started = s.started;
    this.verifying = true;
    this.pruned = s.pruned;
    this.stack.length = 0;
    this.stack.push(...s.stack.map((n) => ({ ...n, options: [...n.options] })));
  }

  /** One option per prefix node: backtracking pops them, so the search ends with the subtree. */
  pin(prefix: readonly PinnedNode[]): void {
    this.stack.push(...prefix.map((n, d) => ({ options: [n.chosen], index: 0, preemptions: 0, prev: d > 0 ? prefix[d - 1]!.chosen : null })));
  }

  endExecution(): void {
    // A failed execution may end before all of its recorded prefix was replayed.
    truncate(this.stack, this.depth);
    this.verifying = false;
  }
}

/** Choosing `next` at a node is a preemption when the previous thread could have gone on. */
function isPreemption(prev: ThreadId | null, next: ThreadId, enabled: readonly ThreadId[]): boolean {
  return prev !== null && next !== prev && enabled.includes(prev);
}

/** Number of preemptions in a schedule, given the enabled set before each step. */
export function countPreemptions(schedule: readonly ThreadId[], enabledSets: readonly (readonly ThreadId[])[]): number {
  let n = 0;
  for (let i = 1; i < schedule.length; i++) {
    if (isPreemption(schedule[i - 1]!, schedule[i]!, enabledSets[i]!)) n++;
  }
  return n;
}
