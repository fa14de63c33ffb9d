// A litmus test as herd7's x86 front ends read it (herdtools7: litmus/x86 and x86_64 syntax):
// an init block, one instruction list per thread, and a final condition over registers and
// memory. Both syntaxes — Intel (`X86`: `MOV [x],$1`) and AT&T (`X86_64`: `movl $1,(x)`) —
// come to this one form.
import { UsageError } from '../model.js';

/** A 64-bit register name: eax, ax, al and rax are all `rax`; r8d is `r8`. */
export type Reg = string;

export type Operand =
  | { readonly k: 'imm'; readonly v: number }
  | { readonly k: 'reg'; readonly r: Reg }
  | { readonly k: 'mem'; readonly loc: string };

/** The operations of the catalogue and its relatives. `line` is the 1-based line of the row. */
export type Instr =
  /** A load (reg ← mem), a store (mem ← reg/imm), or a register move (no memory). */
  | { readonly op: 'mov'; readonly dst: Operand; readonly src: Operand; readonly line: number }
  | { readonly op: 'mfence'; readonly line: number }
  /** lfence and sfence: they order nothing that TSO does not already order on WB memory. */
  | { readonly op: 'nofence'; readonly what: string; readonly line: number }
  /** xchg reg, mem: implicitly locked. */
  | { readonly op: 'xchg'; readonly reg: Reg; readonly loc: string; readonly line: number }
  /** A read-modify-write of memory; `locked` with a lock prefix (else a load then a store). */
  | { readonly op: 'rmw'; readonly what: 'add' | 'sub' | 'or' | 'and' | 'xor' | 'inc' | 'dec'; readonly loc: string; readonly src: Operand | undefined; readonly locked: boolean; readonly line: number }
  /** lock xadd reg, mem: reg gets the old value, mem the sum. */
  | { readonly op: 'xadd'; readonly reg: Reg; readonly loc: string; readonly line: number }
  /** lock cmpxchg reg, mem: compare with rax; mem ← reg on a match, else rax ← mem. */
  | { readonly op: 'cmpxchg'; readonly reg: Reg; readonly loc: string; readonly line: number };

/** A location of the final condition: a register of a thread, or a memory location. */
export type CondLoc = { readonly k: 'reg'; readonly thread: number; readonly r: Reg } | { readonly k: 'mem'; readonly loc: string };

export type Prop =
  | { readonly k: 'true' }
  | { readonly k: 'false' }
  | { readonly k: 'eq'; readonly at: CondLoc; readonly v: number }
  | { readonly k: 'not'; readonly a: Prop }
  | { readonly k: 'and' | 'or' | 'implies'; readonly a: Prop; readonly b: Prop };

export type Quantifier = 'exists' | '~exists' | 'forall';

export interface LitmusTest {
  readonly file: string;
  readonly arch: 'X86' | 'X86_64';
  readonly name: string;
  /** Initial memory values (absent: 0). */
  readonly initMem: ReadonlyMap<string, number>;
  /** Initial register values, by thread then register (absent: 0). */
  readonly initRegs: ReadonlyMap<number, ReadonlyMap<Reg, number>>;
  readonly threads: readonly (readonly Instr[])[];
  readonly quantifier: Quantifier;
  readonly condition: Prop;
}

/** Bad litmus input: names the file and line; the CLI prints it on one line (exit 2). */
export class LitmusError extends UsageError {
  constructor(readonly file: string, readonly line: number, readonly problem: string) {
    super(`${file}:${line}: ${problem}`);
  }
}
