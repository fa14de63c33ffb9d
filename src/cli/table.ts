// Plain-text tables for the terminal, fitted to a width: when the natural table is wider, the
// widest columns give up space first (down to a floor) and their cells wrap onto more lines.
import { wrap } from '../trace/wrap.js';

const GAP = 2;
/** A column is never squeezed below this (nor below its header's longest word). */
const MIN_COLUMN = 8;

export function table(header: readonly string[], rows: readonly (readonly string[])[], maxWidth = Infinity): string {
  const content = header.map((_, i) => Math.max(0, ...rows.map((r) => (r[i] ?? '').length)));
  const widths = fit(header, content, maxWidth);
  const render = (cells: readonly string[]): string[] => {
    const wrapped = widths.map((w, i) => wrap(cells[i] ?? '', w));
    const height = Math.max(...wrapped.map((c) => c.length));
    return Array.from({ length: height }, (_, k) => wrapped.map((c, i) => (c[k] ?? '').padEnd(widths[i]!)).join(' '.repeat(GAP)).trimEnd());
  };
  return [...render(header), widths.map((w) => '-'.repeat(w)).join(' '.repeat(GAP)), ...rows.flatMap(render)].join('\n');
}

/**
 * Column widths that sum (with gaps) to at most `maxWidth`, as far as the floors allow. First a
 * header wider than its column's values wraps (`sleep-` / `blocked`); then the widest columns
 * give up space, never below MIN_COLUMN or a header's longest word.
 */
export function fit(header: readonly string[], content: readonly number[], maxWidth: number): number[] {
  const headWord = header.map((h) => Math.max(...h.split(/(?<=[-\s])/).map((x) => x.trim().length)));
  const widths = header.map((h, i) => Math.max(h.length, content[i]!));
  let excess = widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1) - maxWidth;
  widths.forEach((w, i) => {
    const to = Math.max(content[i]!, headWord[i]!);
    const cut = Math.min(Math.max(0, excess), w - to);
    widths[i] = w - cut;
    excess -= cut;
  });
  const floor = widths.map((w, i) => Math.min(w, Math.max(MIN_COLUMN, headWord[i]!)));
  while (excess > 0) {
    let widest = -1;
    widths.forEach((w, i) => {
      if (w > floor[i]! && (widest < 0 || w > widths[widest]!)) widest = i;
    });
    if (widest < 0) break;
    widths[widest]!--;
    excess--;
  }
  return widths;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}
