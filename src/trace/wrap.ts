// Fitting text to a column: words wrapped at spaces, a word wider than the column broken after
// one of _ - / , ( . = (so `spin_lock(cpa_lock)` breaks as `spin_lock(` `cpa_lock)`), and cut
// only when one unbreakable piece is wider still.
const BREAK_AFTER = /(?<=[_\-/,(.=])/;

export function wrap(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const pieces = word.length > w ? word.split(BREAK_AFTER) : [word];
    pieces.forEach((piece, k) => {
      const sep = line && k === 0 ? ' ' : ''; // pieces of one word join without a space
      if (line && line.length + sep.length + piece.length > w) {
        out.push(line);
        line = piece;
      } else line = `${line}${sep}${piece}`;
      while (line.length > w) {
        out.push(line.slice(0, w));
        line = line.slice(w);
      }
    });
  }
  if (line) out.push(line);
  return out.length ? out : [''];
}
