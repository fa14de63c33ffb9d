// A litmus test as a Program on the simulated machine: thread Pi runs on CPU i, every location is
// a word of physical memory (one data frame per four locations: no translation, so the search
// sees only the memory accesses, the fences and the drains), and every access goes through the
// machine's memory operations — on a TSO machine through the real store buffers
// (src/machine/tso). A thread ends by waiting for its buffer to drain, so a final state is memory
// once every store has reached it, as herd7's final states are.
import type { Program, ThreadBody } from '../engine/types.js';
import { type Cell, type Cpu, Machine, type MemoryModel, physAddr, tso } from '../machine/index.js';
import type { CondLoc, Instr, LitmusTest, Operand, Prop, Reg } from './ast.js';

/** The locations of a test in order of first mention: init, then threads, then the condition. */
export function locationsOf(t: LitmusTest): string[] {
  const seen = new Set<string>(t.initMem.keys());
  for (const th of t.threads) {
    for (const i of th) {
      if (i.op === 'mov') for (const o of [i.dst, i.src]) if (o.k === 'mem') seen.add(o.loc);
      if (i.op === 'xchg' || i.op === 'rmw' || i.op === 'xadd' || i.op === 'cmpxchg') seen.add(i.loc);
    }
  }
  const walk = (p: Prop): void => {
    if (p.k === 'eq' && p.at.k === 'mem') seen.add(p.at.loc);
    if (p.k === 'not') walk(p.a);
    if (p.k === 'and' || p.k === 'or' || p.k === 'implies') {
      walk(p.a);
      walk(p.b);
    }
  };
  walk(t.condition);
  return [...seen];
}

/** The registers of each thread (written, read, initialised, or named by the condition), sorted. */
export function registersOf(t: LitmusTest): string[][] {
  const regs = t.threads.map(() => new Set<Reg>());
  t.threads.forEach((th, k) => {
    for (const r of t.initRegs.get(k)?.keys() ?? []) regs[k]!.add(r);
    for (const i of th) {
      if (i.op === 'mov') for (const o of [i.dst, i.src]) if (o.k === 'reg') regs[k]!.add(o.r);
      if (i.op === 'xchg' || i.op === 'xadd') regs[k]!.add(i.reg);
      if (i.op === 'cmpxchg') regs[k]!.add(i.reg).add('rax');
      if (i.op === 'rmw' && i.src?.k === 'reg') regs[k]!.add(i.src.r);
    }
  });
  const walk = (p: Prop): void => {
    if (p.k === 'eq' && p.at.k === 'reg') regs[p.at.thread]!.add(p.at.r);
    if (p.k === 'not') walk(p.a);
    if (p.k === 'and' || p.k === 'or' || p.k === 'implies') {
      walk(p.a);
      walk(p.b);
    }
  };
  walk(t.condition);
  return regs.map((s) => [...s].sort());
}

/** A final state as the Program reports it: registers by `thread:reg`, memory by location. */
export interface FinalState {
  readonly regs: Readonly<Record<string, number>>;
  readonly mem: Readonly<Record<string, number>>;
}

export const condLocName = (l: CondLoc): string => (l.k === 'reg' ? `${l.thread}:${l.r}` : l.loc);

const WORDS = 4;

// A thread's code and an instruction are module-level generators, not closures made per build:
// V8 makes a new hidden class at the first call of every generator-function closure
// (machine/step.ts).

/** Thread `cpu`'s instructions, with registers `r`, then its store buffer drained. */
function* litmusThread(cpu: Cpu, code: readonly Instr[], cells: ReadonlyMap<string, Cell>, r: Map<Reg, number>): ThreadBody {
  for (const i of code) yield* runInstr(cpu, cells, r, i);
  yield* tso.drained(cpu);
}

function* runInstr(cpu: Cpu, cells: ReadonlyMap<string, Cell>, r: Map<Reg, number>, i: Instr): ThreadBody {
  const val = (o: Operand): number => (o.k === 'imm' ? o.v : o.k === 'reg' ? r.get(o.r)! : NaN);
  switch (i.op) {
    case 'mov':
      if (i.src.k === 'mem' && i.dst.k === 'reg') r.set(i.dst.r, yield* tso.load(cpu, cells.get(i.src.loc)!));
      else if (i.dst.k === 'mem') yield* tso.store(cpu, cells.get(i.dst.loc)!, val(i.src));
      else if (i.dst.k === 'reg') r.set(i.dst.r, val(i.src));
      return;
    case 'mfence':
      return yield* tso.mfence(cpu);
    case 'nofence':
      return;
    case 'xchg':
      r.set(i.reg, yield* tso.xchg(cpu, cells.get(i.loc)!, r.get(i.reg)!));
      return;
    case 'xadd':
      r.set(i.reg, yield* tso.xadd(cpu, cells.get(i.loc)!, r.get(i.reg)!));
      return;
    case 'cmpxchg':
      // rax ends as the old value: equal to it on success, loaded from memory on failure.
      r.set('rax', yield* tso.cmpxchg(cpu, cells.get(i.loc)!, r.get('rax')!, r.get(i.reg)!));
      return;
    case 'rmw': {
      const c = cells.get(i.loc)!;
      const n = i.src === undefined ? 1 : val(i.src);
      const f = (o: number): number => ALU[i.what](o, n);
      if (i.locked) {
        yield* tso.locked(cpu, `${cpu.name}: lock ${i.what} ${c.name}`, c, (o) => ({ value: f(o), result: undefined }));
        return;
      }
      // Without lock a read-modify-write is a load and a later store (SDM §8.1.2.2).
      yield* tso.store(cpu, c, f(yield* tso.load(cpu, c)));
      return;
    }
  }
}

/** `make()` for the engine: a fresh machine and threads per execution. */
export function litmusProgram(t: LitmusTest, memoryModel: MemoryModel): () => Program {
  const locs = locationsOf(t);
  const regNames = registersOf(t);
  const frames = 1 + Math.ceil(locs.length / WORDS) + 1;
  return () => {
    const m = new Machine({ cpus: t.threads.length, memoryModel, frames, ptesPerTable: WORDS });
    const data = Array.from({ length: Math.ceil(locs.length / WORDS) }, (_, k) => m.memory.allocFrame(`data${k}`, 'data'));
    const cells = new Map<string, Cell>();
    locs.forEach((l, k) => {
      const c = m.memory.word(physAddr(data[Math.floor(k / WORDS)]!, k % WORDS));
      c.set(t.initMem.get(l) ?? 0);
      cells.set(l, c);
    });
    // Registers are the threads' own: plain JS, made afresh whenever a thread (re)starts — the
    // engine restarts threads in the same build and feeds them their results (Execution.rewind).
    const initial = (k: number): Map<Reg, number> => new Map(regNames[k]!.map((name) => [name, t.initRegs.get(k)?.get(name) ?? 0]));
    const regs = t.threads.map((_, k) => initial(k));
    const threads = t.threads.map((code, k) => ({
      name: `P${k}`,
      body: (): ThreadBody => litmusThread(m.cpu(k), code, cells, (regs[k] = initial(k))),
    }));
    return {
      threads: [...threads, ...m.actors()],
      invariants: [],
      state: m.state,
      finalState: () => {
        const out: { regs: Record<string, number>; mem: Record<string, number> } = { regs: {}, mem: {} };
        regs.forEach((r, k) => {
          for (const [name, v] of r) out.regs[`${k}:${name}`] = v;
        });
        for (const [l, c] of cells) out.mem[l] = c.get();
        return JSON.stringify(out);
      },
      snapshot: () => m.snapshot(),
    };
  };
}

const ALU: Record<'add' | 'sub' | 'or' | 'and' | 'xor' | 'inc' | 'dec', (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  or: (a, b) => a | b,
  and: (a, b) => a & b,
  xor: (a, b) => a ^ b,
  inc: (a) => a + 1,
  dec: (a) => a - 1,
};
