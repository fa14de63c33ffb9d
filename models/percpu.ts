// percpu — VM-backed per-cpu areas (MODELS.md §6).
//
// Steven Rostedt, "[RFC PATCH 00/09] robust VM per_cpu variables" (LKML, 17 May 2006, against
// 2.6.16/17; never merged): each CPU's per-cpu variables live in its own virtual window at a
// constant offset, `__PERCPU_OFFSET_ADDRESS(i) = PERCPU_START + PERCPU_SIZE*i - __per_cpu_start`,
// so per_cpu(var, cpu) needs no __per_cpu_offset[] load; pages are mapped only when needed. A
// per-cpu high-water mark, `percpu_allocated` ("always points to the page after the last page in
// VM that was allocated. It gets updated after the copys are made"), says how far each window
// is mapped. Loading a module with a per-cpu section runs percpu_modcopy() (01/09 mm/percpu.c),
// "protected by module_mutex": for each possible CPU, percpu_module_update() maps
// [allocated, needed) page by page through percpu_pte_alloc() (BUG() on a present pte,
// __get_free_page, set_pte_at, then a local __flush_tlb()), stores the new high-water mark, and
// memcpy()s the module's initial values into that CPU's copy.
//
// The machine: `cpus` CPUs; CPU c's window is pmd[1+c] → pte page PCc, 4 pages; page 0 is the
// kernel's static per-cpu section (frame Kc, mapped at boot by setup_per_cpu_areas), so
// percpu_allocated[c] starts at window + 1 page. Loader i (insmod on cpu i) loads module Mi with
// a one-page per-cpu section whose variable starts at the section's first word: percpu_modalloc
// (a bump allocator here; 2.6.16's block list under module_mutex) gives M0 page 1, M1 page 2, …
// sys_init_module holds module_mutex around load_module and drops it before mod->init(), which
// reads per_cpu(var, cpu) on every CPU.
import { type Access, type Program, type Step, read, write } from '../src/engine/types.js';
import {
  type Cpu,
  type Lock,
  Machine,
  PAGE_KERNEL,
  PAGE_SIZE,
  type Pfn,
  type PtePtr,
  type VirtAddr,
  describePte,
  hex,
  mk_pte,
  mkStep,
  modelState,
  mutex_lock,
  mutex_unlock,
  op,
  programState,
  type pte_t,
  pte_none,
  refill,
  sameList,
  tso,
  va,
  type Var,
} from '../src/machine/index.js';
import { sbSlotLoc } from '../src/machine/tso/store-buffer.js';
import { defineModel } from '../src/model.js';
import { type PercpuState, percpuInvariants } from '../properties/percpu.js';

type Op<T> = Generator<Step, T, unknown>;

const PERCPU_PAGES = 4; // PERCPU_SIZE in pages (the RFC's default is 1 MB)

const pte_pfnOf = (v: pte_t): Pfn => Math.floor(v / PAGE_SIZE) as Pfn;

/** A module being loaded, with what its loader has made so far. */
interface ModuleLoad {
  readonly name: string;
  /** The initial value in the module's .data.percpu section. */
  readonly init: number;
  readonly loaded: Var;
  /** Per CPU, the end of the section in that CPU's window (set by percpu_modcopy). */
  readonly end: number[];
}

/**
 * One build: the machine, the per-cpu windows and the loaders' operations. The operations are
 * generator methods, one closure for every build (a `function*` made per build costs V8 a new
 * hidden class at its first call: machine/step.ts).
 */
class PercpuKernel {
  readonly m: Machine;
  readonly ncpu: number;
  readonly useMutex: boolean;
  private readonly tables: Pfn[];
  /** DEFINE_PER_CPU(unsigned long, percpu_allocated): kept as model variables (reading it
   * through the TLB would add steps and change nothing). */
  readonly allocated: Var[];
  /** Next free page offset in the per-cpu window. */
  private readonly modalloc: Var;
  private readonly module_mutex: Lock;
  private readonly mapGhost: Var;
  private readonly lowerGhost: Var;
  private readonly useGhost: Var;
  readonly modules: ModuleLoad[];
  readonly st: PercpuState;
  /** The next allocated page's name (P0, P1, …), set by the loaders' code between steps. */
  pageNo = 0;

  constructor(variant: string, p: Readonly<Record<string, number>>) {
    this.useMutex = variant === 'module-mutex';
    const ncpu = (this.ncpu = p.cpus!);
    const nmod = p.modules!;
    const m = (this.m = new Machine({ cpus: ncpu, frames: 16 }));
    const mem = m.memory;
    this.tables = Array.from({ length: ncpu }, (_, c) => mem.allocFrame(`PC${c}`, 'pte'));
    for (let c = 0; c < ncpu; c++) {
      m.init_mm.populate(this.percpuAddr(c, 0), this.tables[c]!);
      // setup_per_cpu_areas(): percpu_boot_alloc + memcpy(__per_cpu_start) for the static section.
      m.init_mm.mapPage(this.percpuAddr(c, 0), mem.allocFrame(`K${c}`, 'data'), PAGE_KERNEL);
    }
    this.allocated = Array.from({ length: ncpu }, (_, c) => m.var(`percpu_allocated[${c}]`, this.percpuAddr(c, 1)));
    this.modalloc = m.var('pcpu_modalloc_next', 1);
    this.module_mutex = m.mutex('module_mutex');
    this.mapGhost = m.var('ghost.mapped');
    this.lowerGhost = m.var('ghost.high-water');
    this.useGhost = m.var('ghost.use');
    this.modules = Array.from({ length: nmod }, (_, i) => ({
      name: `M${i}`,
      init: 11 * (i + 1), // the initial value in the module's .data.percpu section
      loaded: m.var(`loaded:M${i}`),
      end: [] as number[],
    }));
    this.st = {
      allocated: this.allocated,
      sections: this.modules.map((x) => ({ module: x.name, loaded: x.loaded, end: x.end })),
      useViolation: null,
      useGhost: this.useGhost,
      mapGhost: this.mapGhost,
      lowerGhost: this.lowerGhost,
      mapViolation: null,
      lowerViolation: null,
    };
  }

  /** __PERCPU_OFFSET_ADDRESS(c) + offset: CPU c's window is pmd[1 + c]. */
  percpuAddr(c: number, page: number, word = 0): VirtAddr {
    return this.m.geo.addr(1 + c, page, word);
  }

  private ptepOf(c: number, page: number): PtePtr {
    return this.m.init_mm.pte_offset(this.tables[c]!, this.percpuAddr(c, page));
  }

  /** percpu_pte_alloc(): for each page, BUG() unless pte_none, __get_free_page, set_pte_at. */
  *percpu_alloc(cpu: Cpu, c: number, from: number, to: number): Op<boolean> {
    const { m, st, mapGhost } = this;
    const mem = m.memory;
    const geo = m.geo;
    for (let a = from; a < to; a += PAGE_SIZE) {
      const page = geo.pteIndex(va(a));
      const ptep = this.ptepOf(c, page);
      // do { if (unlikely(!pte_none(*pte))) { printk("bad pte ..."); BUG(); } … }
      // `*pte` is a plain load: on TSO it forwards from the CPU's own buffer (tso.sbRead).
      const sb = cpu.sb;
      const seen = (): pte_t => (sb === undefined ? ptep.get() : tso.sbRead(sb, ptep)) as pte_t;
      const own = (): readonly Access[] => (sb === undefined ? [read(ptep.loc)] : sb.loadAccesses(ptep.readAccesses(), ptep.loc));
      const fp = () => (pte_none(seen()) ? own() : [...own(), write(mapGhost.loc)]);
      const ok = yield* op(
        mkStep(`percpu_pte_alloc(${hex(a)}): pte_none(*${ptep.name})?`, fp, (say) => {
          const v = seen();
          if (pte_none(v)) {
            say('none');
            return true;
          }
          st.mapViolation = `${cpu.name}: percpu_pte_alloc(${hex(a)}) finds ${ptep.name} = ${describePte(v, (f) => mem.frameName(f))} already mapped: BUG()`;
          mapGhost.set(1);
          say(`present (${describePte(v, (f) => mem.frameName(f))}) → "bad pte", BUG()`);
          return false;
        }),
      );
      if (!ok) return false;
      const frame = yield* mem.alloc_page(cpu); // __get_free_page(GFP_KERNEL)
      if (frame === null) return false;
      mem.name(frame, `P${this.pageNo++}`);
      yield* this.set_pte_at(cpu, ptep, frame, a);
    }
    yield* cpu.flushTlbLocal(); // __flush_tlb(): local only, the entries were not present before
    return true;
  }

  /** set_pte_at(&init_mm, addr, pte, mk_pte(page, PAGE_KERNEL)); records an overwrite. */
  private *set_pte_at(cpu: Cpu, ptep: PtePtr, frame: Pfn, a: number): Op<void> {
    const { m, st, mapGhost } = this;
    const mem = m.memory;
    const v = mk_pte(frame, PAGE_KERNEL);
    const name = (f: Pfn) => mem.frameName(f);
    const sb = cpu.sb;
    if (sb !== undefined) {
      // On TSO set_pte_at (native_set_pte: WRITE_ONCE) enters the CPU's store buffer. The entry
      // it will overwrite is the one the pte holds once every buffer drains (tso.latest: another
      // CPU's store to it may still be buffered): the ghost check reads memory and every CPU's
      // pending stores to the pte.
      const check = (): Access[] => [read(ptep.loc), ...m.cpus.map((c) => read(sbSlotLoc(c.id, ptep.loc)))];
      const fp = (): readonly Access[] => {
        const own = sb.storeAccesses([], ptep.loc);
        return pte_none(tso.latest(m.cpus, ptep) as pte_t) ? [...own, ...check()] : [...own, ...check(), write(mapGhost.loc)];
      };
      yield* op(
        mkStep(`set_pte_at(${hex(a)}) ${ptep.name} := ${describePte(v, name)}`, fp, (say) => {
          const old = tso.latest(m.cpus, ptep) as pte_t;
          sb.push(ptep.loc, v);
          if (!pte_none(old)) {
            st.mapViolation = `${cpu.name}: ${ptep.name} mapped twice: ${describePte(old, name)} overwritten by ${describePte(v, name)} (${name(pte_pfnOf(old))} leaks)`;
            mapGhost.set(1);
          }
          say(`${ptep.name} := ${describePte(v, name)} buffered${pte_none(old) ? '' : ` (over ${describePte(old, name)})`}`);
        }),
      );
      return;
    }
    const fp = () => (pte_none(ptep.get() as pte_t) ? ptep.writeAccesses() : [...ptep.writeAccesses(), read(ptep.loc), write(mapGhost.loc)]);
    yield* op(
      mkStep(`set_pte_at(${hex(a)}) ${ptep.name} := ${describePte(v, name)}`, fp, (say) => {
        const old = ptep.get() as pte_t;
        ptep.set(v, `${cpu.name} set_pte_at`);
        if (!pte_none(old)) {
          st.mapViolation = `${cpu.name}: ${ptep.name} mapped twice: ${describePte(old, name)} overwritten by ${describePte(v, name)} (${name(pte_pfnOf(old))} leaks)`;
          mapGhost.set(1);
        }
        say(`${ptep.name}: ${describePte(old, name)} → ${describePte(v, name)}`);
      }),
    );
  }
  /** per_cpu(percpu_allocated, c) = PAGE_ALIGN(needed_address): a plain store. */
  private *setAllocated(c: number, to: number): Op<void> {
    const { st, lowerGhost } = this;
    const hw = this.allocated[c]!;
    const fp = () => (hw.get() > to ? [write(hw.loc), write(lowerGhost.loc)] : [write(hw.loc)]);
    yield* op(
      mkStep(`per_cpu(percpu_allocated, ${c}) := ${hex(to)}`, fp, (say) => {
        const old = hw.get();
        hw.set(to);
        if (to < old) {
          st.lowerViolation = `cpu${c}'s high-water mark moved down: percpu_allocated ${hex(old)} → ${hex(to)}`;
          lowerGhost.set(1);
        }
        say(`${hex(old)} → ${hex(to)}${to < old ? ' (moved DOWN)' : ''}`);
      }),
    );
  }

  /** sys_init_module(): load_module (percpu_modalloc + percpu_modcopy) under module_mutex, then mod->init(). */
  *insmod(i: number): Op<void> {
    const { m, st, ncpu, useMutex, module_mutex, modalloc, useGhost } = this;
    const cpu = m.cpu(i % ncpu);
    const mod = this.modules[i]!;
    if (useMutex) yield* mutex_lock(cpu, module_mutex);
    // percpu_modalloc(size = 1 page): take the next free offset (read, then write).
    const off = yield* op(mkStep(`percpu_modalloc(${mod.name}): read next offset`, [read(modalloc.loc)], (say) => {
      say(`page ${modalloc.get()}`);
      return modalloc.get();
    }));
    yield* op(mkStep(`percpu_modalloc(${mod.name}): next offset := ${off + 1}`, [write(modalloc.loc)], (say) => {
      modalloc.set(off + 1);
      say(`${mod.name}'s per-cpu section at page ${off} of every window`);
    }));
    // percpu_modcopy(pcpudst, src, size): for each possible cpu …
    for (let c = 0; c < ncpu; c++) {
      const needed = this.percpuAddr(c, off + 1); // pcpudst + __PERCPU_OFFSET_ADDRESS(c) + size
      mod.end[c] = needed;
      // percpu_module_update(): allocated = per_cpu(percpu_allocated, cpu)
      const hw = this.allocated[c]!;
      const have = yield* op(mkStep(`percpu_module_update(${mod.name}, cpu${c}): read percpu_allocated`, [read(hw.loc)], (say) => {
        say(`${hex(hw.get())}, needed ${hex(needed)}`);
        return hw.get();
      }));
      if (have < needed) {
        if (!(yield* this.percpu_alloc(cpu, c, have, needed))) return; // BUG(): this insmod dies
        yield* this.setAllocated(c, needed);
      }
      // memcpy((pcpudst) + __PERCPU_OFFSET_ADDRESS(c), src, size): the variable's initial value.
      yield* cpu.store(this.percpuAddr(c, off), mod.init);
    }
    yield* op(mkStep(`load_module(${mod.name}) done`, [write(mod.loaded.loc)], (say) => {
      mod.loaded.set(1);
      say(`${mod.name} loaded`);
    }));
    if (useMutex) yield* mutex_unlock(cpu, module_mutex);
    // mod->init(): uses per_cpu(var, c) on every CPU.
    for (let c = 0; c < ncpu; c++) {
      const a = this.percpuAddr(c, off);
      const r = yield* cpu.load(a);
      const bad = !r.ok ? `faults (${r.why})` : r.value !== mod.init ? `reads ${r.value}, not its initial value ${mod.init}` : null;
      if (bad && !st.useViolation) {
        // The ghost record is its own step: it writes the watched ghost word.
        yield* op(mkStep(`mod->init: per_cpu(var, ${c}) ${bad}`, [write(useGhost.loc)], (say) => {
          st.useViolation = `${mod.name}'s init on ${cpu.name}: per_cpu(var, ${c}) at ${hex(a)} ${bad}`;
          useGhost.set(1);
          say('recorded');
        }));
      }
    }
  }
}

function build(variant: string, p: Readonly<Record<string, number>>): Program {
  if (variant !== 'module-mutex' && variant !== 'no-module-mutex') throw new Error(`percpu: no variant ${variant}`);
  const k = new PercpuKernel(variant, p);
  const { m, st, modules, ncpu } = k;
  return {
    threads: [...modules.map((x, i) => ({ name: `cpu${i % ncpu}/${x.name}`, body: () => k.insmod(i) })), ...m.actors()],
    invariants: percpuInvariants(st),
    // Besides the machine: the violation messages (set by steps), each module's section ends and
    // the page-name counter (set by the loaders' code between steps).
    state: programState(
      m,
      modelState(
        () => ({ use: st.useViolation, map: st.mapViolation, lower: st.lowerViolation, ends: modules.map((x) => x.end.slice()), pageNo: k.pageNo }),
        (x) => {
          st.useViolation = x.use;
          st.mapViolation = x.map;
          st.lowerViolation = x.lower;
          modules.forEach((mod, i) => refill(mod.end, x.ends[i]!));
          k.pageNo = x.pageNo;
        },
        (x) =>
          x.use === st.useViolation && x.map === st.mapViolation && x.lower === st.lowerViolation && x.pageNo === k.pageNo &&
          modules.every((mod, i) => sameList(x.ends[i], mod.end)),
      ),
    ),
    finalState: () => m.finalState(),
    snapshot: () => m.snapshot(),
  };
}

export const percpu = defineModel({
  name: 'percpu',
  title: 'VM-backed per-cpu areas: module loaders extending every CPU window',
  source: 'Steven Rostedt, "[RFC PATCH 00/09] robust VM per_cpu variables" (LKML, 17 May 2006): mm/percpu.c percpu_modcopy / percpu_module_update',
  params: {
    cpus: { default: 2, min: 1, max: 3, description: 'possible CPUs (per-cpu windows); loader i runs on cpu i mod cpus' },
    modules: { default: 2, min: 1, max: 3, description: 'modules loaded concurrently, each with a one-page per-cpu section' },
  },
  variants: [
    { name: 'module-mutex', description: 'percpu_modalloc and percpu_modcopy under module_mutex, as the RFC requires', expect: 'holds' },
    {
      name: 'no-module-mutex',
      description: 'two loaders without module_mutex: they read the same high-water mark and map the same pages twice',
      expect: { violates: 'mapped-once' },
    },
  ],
  invariants: [
    { name: 'initialised-before-use', description: "every module variable is mapped and initialised on every CPU before its first use (per_cpu(var, cpu) in the module's init)" },
    { name: 'mapped-once', description: 'a per-cpu page is never mapped twice: percpu_pte_alloc never finds (or overwrites) a present pte' },
    { name: 'high-water-covers-loaded', description: "each CPU's high-water mark only grows and covers every loaded module's per-cpu section" },
  ],
  build,
});

export default percpu;
