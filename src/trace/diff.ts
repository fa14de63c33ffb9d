// What a step changed in the machine: the difference between two state snapshots, as
// "path: before → after" lines over the flattened JSON.
export function flatten(x: unknown, prefix = '', out: Map<string, string> = new Map()): Map<string, string> {
  if (x !== null && typeof x === 'object') {
    const entries = Array.isArray(x) ? x.map((v, i) => [String(i), v] as const) : Object.entries(x as Record<string, unknown>);
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (x !== undefined) {
    out.set(prefix, typeof x === 'string' ? x : JSON.stringify(x));
  }
  return out;
}

export function snapshotChanges(before: unknown, after: unknown): string[] {
  const a = flatten(before);
  const b = flatten(after);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  const out: string[] = [];
  for (const k of keys) {
    const x = a.get(k);
    const y = b.get(k);
    if (x !== y) out.push(`${k}: ${x ?? '–'} → ${y ?? '–'}`);
  }
  return out;
}
