// Progress on stderr while a long exploration runs — only when stderr is a terminal, so
// pipes and CI logs stay clean. Wall-clock time here is for display only.
import type { Progress as Stats } from '../engine/explore.js';
import { quoteField } from '../schema/text.js';

/** What bounds the run, when something does: then an estimate of what is left can be shown. */
export interface Budget {
  readonly executions?: number;
  readonly timeMs?: number;
}

/** The split search's pool: workers busy, jobs not finished. */
export interface PoolStats {
  readonly workers: number;
  readonly busy: number;
  readonly jobsLeft: number;
}

export function progressLine(what: string, p: Stats, budget: Budget, pool?: PoolStats): string {
  const rate = p.elapsedMs > 0 ? (p.executions * 1000) / p.elapsedMs : 0;
  const states = p.states === undefined ? '' : `${p.states} states (${Math.round(p.elapsedMs > 0 ? (p.states * 1000) / p.elapsedMs : 0)}/s), `;
  let line = `${quoteField(what, 120)}: ${states}${p.executions}${budget.executions ? `/${budget.executions}` : ''} executions, ${Math.round(rate)}/s, ${(p.elapsedMs / 1000).toFixed(1)}s elapsed`;
  const left: number[] = [];
  if (budget.executions && rate > 0) left.push(((budget.executions - p.executions) / rate) * 1000);
  if (budget.timeMs) left.push(budget.timeMs - p.elapsedMs);
  if (left.length) line += `, ~${Math.max(0, Math.min(...left) / 1000).toFixed(0)}s left at most`;
  if (pool) line += `; ${pool.busy}/${pool.workers} workers busy, ${pool.jobsLeft} jobs left`;
  return line;
}

export class Progress {
  private shown = false;
  private lastDraw = -Infinity;

  constructor(
    private readonly isTTY: boolean,
    private readonly what: string,
    private readonly budget: Budget = {},
    private readonly write: (s: string) => void = (s) => void process.stderr.write(s),
  ) {}

  update(p: Stats, pool?: PoolStats): void {
    if (!this.isTTY || p.elapsedMs - this.lastDraw < 250) return;
    this.lastDraw = p.elapsedMs;
    this.write(`\r\x1b[K${progressLine(this.what, p, this.budget, pool)}`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.write('\r\x1b[K');
    this.shown = false;
  }
}
