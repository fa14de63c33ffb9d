// herd7's x86 litmus format: a title line (`X86 name` or `X86_64 name`), metadata lines and an
// optional quoted comment, an init block `{ x=1; 0:EAX=2; }`, a header `P0 | P1 ;`, one row of
// instructions per line (cells split by `|`, the row ended by `;`), an optional `locations [...]`
// line and the final condition (`exists`, `~exists` or `forall` over `/\`, `\/`, `~`, `=>`).
// `(* … *)` is a comment. Every error names the file and line.
import { type Instr, LitmusError, type LitmusTest, type Operand, type Quantifier, type Reg } from './ast.js';
import { parseCondition } from './condition.js';

/** `text` with every `(* … *)` comment blanked (newlines kept, so line numbers stay). */
function stripComments(text: string): string {
  return text.replace(/\(\*[\s\S]*?\*\)/g, (c) => c.replace(/[^\n]/g, ' '));
}

const GPRS = ['ax', 'bx', 'cx', 'dx', 'si', 'di', 'bp', 'sp'];
/** eax, ax, al, rax → rax; r8d, r8w, r8b, r8 → r8. Undefined: not a general-purpose register. */
export function normaliseReg(name: string): Reg | undefined {
  const r = name.toLowerCase().replace(/^%/, '');
  let m = /^[re]?([a-d]x|si|di|bp|sp)$/.exec(r);
  if (m) return `r${m[1]}`;
  m = /^([a-d])[lh]$/.exec(r);
  if (m) return `r${m[1]}x`;
  m = /^(si|di|bp|sp)l$/.exec(r);
  if (m) return `r${m[1]}`;
  m = /^r(\d{1,2})[dwb]?$/.exec(r);
  if (m && Number(m[1]) >= 8 && Number(m[1]) <= 15) return `r${Number(m[1])}`;
  return GPRS.includes(r) ? `r${r}` : undefined;
}

const LOC = /^[A-Za-z_][\w]*$/;

function parseNumber(s: string): number | undefined {
  if (/^-?\d{1,15}$/.test(s)) return Number(s);
  if (/^0x[0-9a-f]{1,12}$/i.test(s)) return Number.parseInt(s.slice(2), 16);
  return undefined;
}

class Cursor {
  constructor(readonly file: string, readonly line: number) {}
  fail(problem: string): never {
    throw new LitmusError(this.file, this.line, problem);
  }
}

function operand(at: Cursor, raw: string): Operand {
  const s = raw.trim();
  const mem = /^\[\s*([^\]]+?)\s*\]$/.exec(s) ?? /^\(\s*([^)]+?)\s*\)$/.exec(s);
  if (mem) {
    if (!LOC.test(mem[1]!)) at.fail(`unsupported memory operand "${s}" (a location name in [x] or (x) is)`);
    return { k: 'mem', loc: mem[1]! };
  }
  const imm = parseNumber(s.replace(/^\$/, ''));
  if (imm !== undefined && (s.startsWith('$') || /^-?\d/.test(s))) return { k: 'imm', v: imm };
  const r = normaliseReg(s);
  if (r !== undefined) return { k: 'reg', r };
  return at.fail(`unknown operand "${s}"`);
}

const RMW = ['add', 'sub', 'or', 'and', 'xor', 'inc', 'dec'] as const;
type RmwOp = (typeof RMW)[number];
const MNEMONICS = new Set<string>(['mov', 'mfence', 'lfence', 'sfence', 'xchg', 'xadd', 'cmpxchg', ...RMW]);

/** The mnemonic without AT&T's size suffix (movl → mov), when that names one we know. */
function baseMnemonic(m: string): string | undefined {
  if (MNEMONICS.has(m)) return m;
  const base = m.replace(/[bwlq]$/, '');
  return MNEMONICS.has(base) ? base : undefined;
}

/** One instruction cell. Intel order is `dst, src`; AT&T (X86_64) `src, dst`. */
function instruction(at: Cursor, cell: string, att: boolean): Instr {
  let text = cell.trim();
  let locked = false;
  const lock = /^lock\b\s*;?\s*/i.exec(text);
  if (lock) {
    locked = true;
    text = text.slice(lock[0].length);
  }
  const sp = text.search(/\s/);
  const word = (sp < 0 ? text : text.slice(0, sp)).toLowerCase();
  const args = sp < 0 ? [] : splitOperands(text.slice(sp + 1));
  const op = baseMnemonic(word);
  if (op === undefined) return at.fail(`unsupported instruction "${text}" (mmcheck reads mov, mfence, lfence, sfence, xchg, xadd, cmpxchg, add, sub, or, and, xor, inc, dec, with or without lock)`);
  const ops = args.map((a) => operand(at, a));
  if (att) ops.reverse();
  const want = (n: number): void => {
    if (ops.length !== n) at.fail(`${word} takes ${n} operand${n === 1 ? '' : 's'}, got ${ops.length}`);
  };
  const line = at.line;
  const lockable = (): void => {
    if (locked && op !== 'xchg' && !(RMW as readonly string[]).includes(op) && op !== 'xadd' && op !== 'cmpxchg') at.fail(`lock prefix on ${word}`);
  };
  lockable();
  switch (op) {
    case 'mfence':
      want(0);
      return { op: 'mfence', line };
    case 'lfence':
    case 'sfence':
      want(0);
      return { op: 'nofence', what: op, line };
    case 'mov': {
      want(2);
      const [dst, src] = ops as [Operand, Operand];
      if (dst.k === 'imm') at.fail('mov into an immediate');
      if (dst.k === 'mem' && src.k === 'mem') at.fail('x86 has no memory-to-memory mov');
      return { op: 'mov', dst, src, line };
    }
    case 'xchg': {
      want(2);
      const reg = ops.find((o) => o.k === 'reg');
      const mem = ops.find((o) => o.k === 'mem');
      if (reg?.k !== 'reg' || mem?.k !== 'mem') return at.fail('xchg takes a register and a memory operand');
      return { op: 'xchg', reg: reg.r, loc: mem.loc, line };
    }
    case 'xadd':
    case 'cmpxchg': {
      want(2);
      const [dst, src] = ops as [Operand, Operand];
      if (dst.k !== 'mem' || src.k !== 'reg') return at.fail(`${op} takes a memory destination and a register source`);
      if (!locked) at.fail(`${op} without lock is not atomic and not supported`);
      return { op, reg: src.r, loc: dst.loc, line };
    }
    default: {
      const what = op as RmwOp;
      const unary = what === 'inc' || what === 'dec';
      want(unary ? 1 : 2);
      const [dst, src] = ops as [Operand, Operand | undefined];
      if (dst.k !== 'mem') return at.fail(`${what} on a register is not supported (only read-modify-writes of memory)`);
      if (src?.k === 'mem') at.fail(`${what} with two memory operands`);
      return { op: 'rmw', what, loc: dst.loc, src, locked, line };
    }
  }
}

/** Operands split at top-level commas (none inside brackets). */
function splitOperands(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '[' || ch === '(') depth++;
    if (ch === ']' || ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur);
  return out;
}

/** Parses herd7 x86 / x86_64 litmus text. */
export function parseLitmus(text: string, file: string): LitmusTest {
  const lines = stripComments(text).split(/\r?\n/);
  let i = 0;
  const at = (n: number) => new Cursor(file, n + 1);
  while (i < lines.length && lines[i]!.trim() === '') i++;
  if (i === lines.length) at(0).fail('empty file: a litmus test starts with "X86 name"');
  const title = /^\s*(\S+)\s+(\S+)/.exec(lines[i]!);
  const arch = title?.[1]!.toUpperCase();
  if (!title || (arch !== 'X86' && arch !== 'X86_64')) at(i).fail(`not an x86 litmus test: the title line must be "X86 name" or "X86_64 name", got "${lines[i]!.trim().slice(0, 60)}"`);
  const name = title![2]!;
  // Metadata and the quoted comment, up to the init block.
  i++;
  while (i < lines.length && !lines[i]!.trim().startsWith('{')) i++;
  if (i === lines.length) at(lines.length - 1).fail('no init block ("{ … }") found');
  const initMem = new Map<string, number>();
  const initRegs = new Map<number, Map<Reg, number>>();
  // The init block, possibly on several lines.
  let body = lines[i]!.trim().slice(1);
  for (;;) {
    const close = body.indexOf('}');
    const part = close < 0 ? body : body.slice(0, close);
    for (const a of part.split(';')) initAssign(at(i), a, initMem, initRegs);
    if (close >= 0) {
      if (body.slice(close + 1).trim() !== '') at(i).fail('text after the init block\'s "}"');
      break;
    }
    i++;
    if (i === lines.length) at(i - 1).fail('init block not closed with "}"');
    body = lines[i]!;
  }
  i++;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  if (i === lines.length) at(i - 1).fail('no thread header ("P0 | P1 ;") found');
  const header = rowCells(at(i), lines[i]!);
  header.forEach((h, k) => {
    if (h !== `P${k}`) at(i).fail(`thread header: expected P${k}, got "${h}"`);
  });
  const n = header.length;
  const threads: Instr[][] = Array.from({ length: n }, () => []);
  i++;
  const condStart = /^\s*(~?\s*exists|forall|locations|filter|~)/;
  for (; i < lines.length && !condStart.test(lines[i]!); i++) {
    if (lines[i]!.trim() === '') continue;
    const cells = rowCells(at(i), lines[i]!);
    if (cells.length > n) at(i).fail(`${cells.length} columns, but the header names ${n} threads`);
    cells.forEach((c, k) => {
      if (c !== '') threads[k]!.push(instruction(at(i), c, arch === 'X86_64'));
    });
  }
  if (i === lines.length) {
    let last = lines.length - 1;
    while (last > 0 && lines[last]!.trim() === '') last--;
    at(last).fail('no final condition (exists, ~exists or forall)');
  }
  const rest = lines.slice(i).map((l, k) => ({ text: l, line: i + k + 1 }));
  const { quantifier, prop } = parseCondition(file, rest, n);
  return { file, arch: arch as 'X86' | 'X86_64', name, initMem, initRegs, threads, quantifier, condition: prop };
}

/** A row's cells: the text split at `|`, the ending `;` required. */
function rowCells(at: Cursor, line: string): string[] {
  const t = line.trim();
  if (!t.endsWith(';')) at.fail('a thread row must end with ";"');
  return t.slice(0, -1).split('|').map((c) => c.trim());
}

function initAssign(at: Cursor, raw: string, mem: Map<string, number>, regs: Map<number, Map<Reg, number>>): void {
  const a = raw.trim();
  if (a === '') return;
  const m = /^(?:(?:u?int(?:\d+_t)?|long|char|short)\s+)?(?:(\d+):)?(\[?[%\w]+\]?)\s*=\s*(\S+)$/.exec(a);
  if (!m) return at.fail(`cannot read init "${a}" (expected x=1 or 0:EAX=1)`);
  const v = parseNumber(m[3]!.replace(/^\$/, ''));
  if (v === undefined) return at.fail(`init "${a}": only integer values are supported (not addresses)`);
  if (m[1] !== undefined) {
    const r = normaliseReg(m[2]!);
    if (r === undefined) return at.fail(`init "${a}": unknown register ${m[2]}`);
    const t = Number(m[1]);
    if (!regs.has(t)) regs.set(t, new Map());
    regs.get(t)!.set(r, v);
    return;
  }
  const loc = m[2]!.replace(/^\[(.*)\]$/, '$1');
  if (!LOC.test(loc)) return at.fail(`init "${a}": bad location name`);
  mem.set(loc, v);
}

export type { Quantifier };
