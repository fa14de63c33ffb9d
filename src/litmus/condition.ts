// The final condition of a litmus test: `exists P`, `~exists P` or `forall P`, where P is built
// from `loc=value` atoms (`0:rax=1`, `0:EAX=1`, `x=1`, `[x]=1`), `true`, `false`, `~`, `/\`,
// `\/` and `=>` (binding in that order, tightest first) and parentheses. herd7's grammar.
import { type CondLoc, LitmusError, type Prop, type Quantifier } from './ast.js';
import { normaliseReg } from './parse.js';

interface Tok {
  readonly t: string;
  readonly line: number;
}

const TOKEN = /\s*(\/\\|\\\/|=>|[()[\]~=:]|0x[0-9a-fA-F]+|-?\d+|[A-Za-z_%$][\w]*)/y;

function tokens(file: string, lines: readonly { text: string; line: number }[]): Tok[] {
  const out: Tok[] = [];
  for (const { text, line } of lines) {
    TOKEN.lastIndex = 0;
    let pos = 0;
    while (pos < text.length) {
      if (/^\s*$/.test(text.slice(pos))) break;
      TOKEN.lastIndex = pos;
      const m = TOKEN.exec(text);
      if (!m) throw new LitmusError(file, line, `unexpected "${text.slice(pos).trim().slice(0, 20)}" in the condition`);
      out.push({ t: m[1]!, line });
      pos = TOKEN.lastIndex;
    }
  }
  return out;
}

/** Parses the condition section (from its first line to the end of the file). */
export function parseCondition(file: string, lines: readonly { text: string; line: number }[], threads: number): { quantifier: Quantifier; prop: Prop } {
  const toks = tokens(file, lines);
  let i = 0;
  const lastLine = lines.length ? lines[lines.length - 1]!.line : 1;
  const peek = (): string | undefined => toks[i]?.t;
  const fail = (problem: string): never => {
    throw new LitmusError(file, toks[Math.min(i, toks.length - 1)]?.line ?? lastLine, problem);
  };
  const take = (want?: string): string => {
    const t = toks[i];
    if (t === undefined) return fail(want ? `the condition ends where "${want}" was expected` : 'the condition ends too early');
    if (want !== undefined && t.t !== want) return fail(`expected "${want}" in the condition, got "${t.t}"`);
    i++;
    return t.t;
  };
  // `locations [x; 0:EAX;]` only chooses what herd prints: skipped.
  if (peek() === 'locations') {
    while (i < toks.length && toks[i]!.t !== ']') i++;
    take(']');
  }
  if (peek() === 'filter') fail('"filter" is not supported');
  let quantifier: Quantifier;
  if (peek() === '~') {
    take();
    take('exists');
    quantifier = '~exists';
  } else if (peek() === 'exists' || peek() === 'forall') quantifier = take() as Quantifier;
  else return fail(`expected exists, ~exists or forall, got "${peek() ?? 'the end of the file'}"`);

  const value = (): number => {
    const t = take();
    const v = /^-?\d+$/.test(t) ? Number(t) : /^0x/i.test(t) ? Number.parseInt(t.slice(2), 16) : NaN;
    if (!Number.isSafeInteger(v)) fail(`expected an integer value, got "${t}"`);
    return v;
  };
  const location = (): CondLoc => {
    if (peek() === '[') {
      take('[');
      const loc = take();
      take(']');
      return { k: 'mem', loc };
    }
    const first = take();
    if (peek() === ':') {
      take(':');
      const thread = Number(first);
      if (!/^\d+$/.test(first) || thread >= threads) fail(`the condition names thread ${first}, but the test has threads 0 to ${threads - 1}`);
      const raw = take();
      const r = normaliseReg(raw);
      if (r === undefined) return fail(`unknown register "${raw}" in the condition`);
      return { k: 'reg', thread, r };
    }
    if (!/^[A-Za-z_]\w*$/.test(first)) fail(`expected a location, got "${first}"`);
    return { k: 'mem', loc: first };
  };
  const atom = (): Prop => {
    const t = peek();
    if (t === '(') {
      take('(');
      const p = implication();
      take(')');
      return p;
    }
    if (t === '~' || t === 'not') {
      take();
      return { k: 'not', a: atom() };
    }
    if (t === 'true' || t === 'false') {
      take();
      return { k: t };
    }
    const at = location();
    take('=');
    return { k: 'eq', at, v: value() };
  };
  const conjunction = (): Prop => {
    let p = atom();
    while (peek() === '/\\') {
      take();
      p = { k: 'and', a: p, b: atom() };
    }
    return p;
  };
  const disjunction = (): Prop => {
    let p = conjunction();
    while (peek() === '\\/') {
      take();
      p = { k: 'or', a: p, b: conjunction() };
    }
    return p;
  };
  const implication = (): Prop => {
    const p = disjunction();
    if (peek() !== '=>') return p;
    take();
    return { k: 'implies', a: p, b: implication() };
  };
  const prop = implication();
  if (i < toks.length) fail(`unexpected "${toks[i]!.t}" after the condition`);
  return { quantifier, prop };
}

/** The value of `p` in a final state (`reg(thread, r)`, `mem(loc)` read it). */
export function evaluate(p: Prop, reg: (thread: number, r: string) => number, mem: (loc: string) => number): boolean {
  switch (p.k) {
    case 'true': return true;
    case 'false': return false;
    case 'eq': return (p.at.k === 'reg' ? reg(p.at.thread, p.at.r) : mem(p.at.loc)) === p.v;
    case 'not': return !evaluate(p.a, reg, mem);
    case 'and': return evaluate(p.a, reg, mem) && evaluate(p.b, reg, mem);
    case 'or': return evaluate(p.a, reg, mem) || evaluate(p.b, reg, mem);
    case 'implies': return !evaluate(p.a, reg, mem) || evaluate(p.b, reg, mem);
  }
}
