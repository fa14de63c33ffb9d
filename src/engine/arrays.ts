// Shortening the engine's per-execution lists. `a.length = n` is a call into V8's runtime (a
// store to the length accessor, never inlined), made at every rewind and new step; `pop()` in
// a loop is inlined, and the few entries dropped at a time make the loop short.

/** Drops the entries of `a` from `n` on (nothing when it has `n` or fewer). */
export function truncate(a: unknown[], n: number): void {
  while (a.length > n) a.pop();
}
