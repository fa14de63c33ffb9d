// Progress on stderr while a long exploration runs — only when stderr is a terminal, so
// pipes and CI logs stay clean. Wall-clock time here is for display only.
import type { Progress as Stats } from '../engine/explore.js';
import type { Io } from './report.js';

export class Progress {
  private shown = false;
  private lastDraw = 0;

  constructor(private readonly io: Io, private readonly what: string) {}

  update(p: Stats): void {
    if (!this.io.isTTY) return;
    if (p.elapsedMs - this.lastDraw < 250) return;
    this.lastDraw = p.elapsedMs;
    const rate = p.elapsedMs > 0 ? Math.round((p.executions * 1000) / p.elapsedMs) : 0;
    process.stderr.write(`\r${this.what}: ${p.executions} executions, ${rate}/s, ${(p.elapsedMs / 1000).toFixed(1)}s elapsed   `);
    this.shown = true;
  }

  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
  }
}
