// Machine.save / restore (Program.state): a restored machine is field for field the machine it
// was saved from, a saved state is a copy, and every field of every machine part is accounted
// for — saved, fixed at setup, or a cache — so a part added later cannot be forgotten silently.
import { describe, expect, it } from 'vitest';
import type { Program, ThreadSpec } from '../../src/engine/types.js';
import {
  Machine, type MachineOptions, PAGE_KERNEL, PAGE_SHARED, type Pfn, type PtePtr, WRITE_ONCE, atomic_inc, decodeEntry,
  encodeEntry, get_page, lock_page, pfn, physAddr, pmd_populate, pte_clear, set_pte, mk_pte, spin_lock, va,
} from '../../src/machine/index.js';
import { stateFingerprint } from '../../src/engine/fingerprint.js';
import { Runner } from './runner.js';

const OPTIONS: MachineOptions = { cpus: 3, frames: 8, pagingStructureCache: true, trackCaches: true, speculation: { vas: [va(0x1000)], fills: 1, evictions: 1 } };

/** A machine whose setup is the same on every build, and threads that change every part of it. */
function build() {
  const m = new Machine(OPTIONS);
  const user = m.newMm('user');
  const O = m.memory.allocFrame('O', 'pte');
  const A = m.memory.allocFrame('A', 'data');
  const B = m.memory.allocFrame('B', 'data');
  user.populate(va(0), O);
  user.mapPage(va(0), A, PAGE_SHARED);
  user.mapPage(va(0x1000), B, PAGE_SHARED);
  m.setMm(0, user);
  m.setMm(1, user);
  const lock = m.spinlock('ptl');
  const v = m.var('counter');
  const ptes: PtePtr[] = [user.pte_offset(O, va(0)), user.pte_offset(O, va(0x1000))];
  const threads: ThreadSpec[] = [
    {
      name: 'cpu0',
      body: function* () {
        const c = m.cpu(0);
        yield* c.load(va(0)); // TLB fill (4K) + psc fill
        yield* c.store(va(0x1000), 7); // fill, set D (TLB entry replaced), write
        yield* c.store(va(0x3000), 1); // not-present fault: the fault log
        yield* spin_lock(lock, 'cpu0');
        yield* c.local_irq_disable();
        yield* c.flush_tlb_all(); // posts IPIs; the acks never come (irqs off elsewhere too)
      },
    },
    {
      name: 'cpu1',
      body: function* () {
        const c = m.cpu(1);
        yield* c.load(va(0x1000));
        const f = yield* m.memory.get_zeroed_page('N', 'pte'); // allocation, names
        if (f === null) throw new Error('out of frames');
        yield* pmd_populate(user.pmdp(va(0x4000 * 2)), f); // role
        yield* set_pte(m.memory.word(physAddr(f, 0)), mk_pte(A, PAGE_KERNEL));
        yield* m.memory.free_page(f);
        yield* set_pte(m.memory.word(physAddr(f, 1)), mk_pte(B, PAGE_KERNEL)); // a store into a freed frame
        yield* pte_clear(ptes[0]!);
        yield* m.memory.clflush(A);
        yield* c.switch_mm(m.init_mm); // cr3
      },
    },
    {
      name: 'cpu2',
      body: function* () {
        yield* atomic_inc(v);
        yield* get_page(m.page(A));
        yield* lock_page(m.page(B));
        yield* WRITE_ONCE(m.page(A)._mapcount, 3);
        yield* m.cpu(2).local_irq_disable();
      },
    },
    ...m.actors(),
  ];
  const program: Program = { threads, invariants: [], state: m.state };
  return { m, program, A: A as Pfn };
}

/** Every field reachable from `root`, as data: objects already seen by their first path (the
 * machine's parts point at each other), functions and the named caches left out. */
function dump(root: unknown): unknown {
  const seen = new Map<object, string>();
  const walk = (x: unknown, path: string): unknown => {
    if (typeof x === 'function') return '<fn>';
    if (typeof x !== 'object' || x === null) return x;
    const first = seen.get(x);
    if (first !== undefined) return `<ref ${first}>`;
    seen.set(x, path);
    if (x instanceof Map) return { map: [...x.entries()].map(([k, v], i) => [walk(k, `${path}.k${i}`), walk(v, `${path}.v${i}`)]) };
    if (x instanceof Set) return { set: [...x].map((v, i) => walk(v, `${path}.s${i}`)) };
    if (Array.isArray(x)) return x.map((v, i) => walk(v, `${path}[${i}]`));
    const out: Record<string, unknown> = { class: x.constructor?.name };
    for (const k of Object.keys(x)) if (!CACHES.has(k)) out[k] = walk((x as Record<string, unknown>)[k], `${path}.${k}`);
    return out;
  };
  return walk(root, 'm');
}

/** Lazily made location strings, footprints, labels and word cells (the same values however
 * they are made), and what each part saved last (`last`, reused by the next save while nothing
 * changed). */
const CACHES = new Set([
  'memLocs', 'frameLocs', 'cacheLocs', 'cells', 'locs4K', 'locs2M', 'pscLocs', 'allSlots', 'ackLocs', 'last', 'scratchLists',
  // names and labels made from a frame name, with the name they were made from; the other CPUs
  'nameText', 'nameFrom', 'labelText', 'labelFrom', 'otherCpus',
  // location names, footprints and texts shared by every build (filled as steps are made)
  'shared', 'text', 'shape',
  // whether a part changed since `last`; struct pages made when first asked for
  'changed', 'made',
  // the object last fingerprinted at each part, with its hash (state-hash.ts); the names and
  // roles last handed out as the unaudited state (Machine.unaudited)
  'hashPlaces', 'lastQuiet',
  // the Lookup last handed out per page-table entry (PageTable.leaf, immutable records)
  'lookups',
]);

/** Run the scenario's threads round-robin for `n` steps (skipping disabled ones). */
function runSome(r: Runner, program: Program, n: number): void {
  const names = program.threads.map((t) => t.name);
  for (let i = 0, k = 0; i < n && k < 10 * n; k++) {
    const t = names[k % names.length]!;
    if (!r.done(t) && r.enabled(t)) {
      r.step(t);
      i++;
    }
  }
}

describe('Machine.save / restore', () => {
  it('after every step, a fresh build restored from the saved state is, field for field, the machine saved', () => {
    const a = build();
    const r = new Runner(a.program);
    const reached = new Set<string>();
    for (let n = 0; n < 60; n++) {
      const saved = a.m.save();
      const b = build();
      b.m.restore(saved);
      expect(dump(b.m)).toEqual(dump(a.m));
      expect(b.m.finalState()).toBe(a.m.finalState());
      expect(b.m.snapshot()).toEqual(a.m.snapshot());
      const s = a.m.snapshot();
      if (s.faults.length > 0) reached.add('fault');
      if (s.writesToFreedFrames.length > 0) reached.add('freed write');
      if (s.locks.length > 0) reached.add('lock');
      if (s.cpus.some((c) => c.ipiPending.length > 0)) reached.add('ipi');
      if (s.cpus.some((c) => c.awaitingAcks.length > 0)) reached.add('ack');
      if (s.cpus.some((c) => c.tlb.some((e) => e.includes(' D')))) reached.add('tlb D');
      if (s.cpus.some((c) => c.psc.length > 0)) reached.add('psc');
      if (s.cpus.some((c) => c.mm !== 'init_mm')) reached.add('mm');
      if (s.cpus.some((c) => !c.irq)) reached.add('irq');
      if (s.cpus.some((c) => c.inInsn)) reached.add('insn');
      if (Object.keys(s.pages).length > 0) reached.add('page');
      if (s.vars.counter === 1) reached.add('var');
      if (s.cachedWB.length > 0) reached.add('cache');
      if (s.tables['N (pte)']) reached.add('role');
      runSome(r, a.program, 1);
    }
    // The scenario reaches every kind of state the machine keeps.
    expect([...reached].sort()).toEqual(['ack', 'cache', 'fault', 'freed write', 'insn', 'ipi', 'irq', 'lock', 'mm', 'page', 'psc', 'role', 'tlb D', 'var'].sort());
  });

  it('a saved state is a copy: what happens after the save does not change it', () => {
    const a = build();
    const r = new Runner(a.program);
    runSome(r, a.program, 12);
    const saved = a.m.save();
    const then = dump(a.m);
    runSome(r, a.program, 40);
    expect(dump(a.m)).not.toEqual(then);
    a.m.restore(saved);
    expect(dump(a.m)).toEqual(then);
    // …and restoring does not tie the machine to the saved state either.
    const again = build();
    again.m.restore(saved);
    runSome(new Runner(again.program), again.program, 5);
    const b = build();
    b.m.restore(saved);
    expect(dump(b.m)).toEqual(then);
  });

  it('a saved state holds no object of the machine it came from (it goes into another build)', () => {
    const a = build();
    runSome(new Runner(a.program), a.program, 40);
    const parts = new Set<unknown>([a.m, a.m.memory, a.m.pages, a.m.init_mm, ...a.m.cpus, ...a.m.cpus.map((c) => c.tlb)]);
    const bad: string[] = [];
    const walk = (x: unknown, path: string): void => {
      if (typeof x !== 'object' || x === null) return;
      if (parts.has(x) || (x.constructor !== Object && x.constructor !== Array)) bad.push(path);
      for (const [k, v] of Object.entries(x)) walk(v, `${path}.${k}`);
    };
    walk(a.m.save(), 'saved');
    expect(bad).toEqual([]);
  });

  // The registry: each machine class's fields, by what save() does with them. A new field fails
  // here until it is put in one list — and if steps change it, saved (and restored) as well.
  it('every field of every machine part is saved, fixed at setup, or a cache', () => {
    const { m } = build();
    const fields: [string, object, { saved: string[]; setup: string[] }][] = [
      ['Machine', m, { saved: ['faultLog', 'locks', 'vars', 'lockList', 'varList', 'buffers'], setup: ['options', 'geo', 'memory', 'pages', 'init_mm', 'cpuList', 'pagingStructureCache', 'trackCaches', 'logFaults', 'mms', 'memoryModel'] }],
      ['PhysMemory', m.memory, { saved: ['words', 'allocated', 'names', 'roles', 'cachedWB', 'freedWrites'], setup: ['frameCount', 'wordsPerFrame'] }],
      ['PageArray', m.pages, { saved: ['words'], setup: ['mem'] }],
      ['Page', m.page(pfn(1)), { saved: [], setup: ['pfn', 'mem', 'owner', 'flags', '_count', '_mapcount', 'first_page'] }],
      ['PageField', m.page(pfn(1)).flags, { saved: [], setup: ['loc', 'page', 'field', 'slot'] }],
      ['Var', m.var('counter'), { saved: ['value'], setup: ['loc', 'name'] }],
      ['Lock', m.spinlock('ptl'), { saved: ['taken', 'holder'], setup: ['name', 'kind', 'loc'] }],
      ['Cpu', m.cpu(0), { saved: ['irq', 'insn', 'root', 'ipiQueue', 'acks', 'tlb'], setup: ['id', 'host', 'name', 'insnLoc', 'irqLoc', 'ipiLoc', 'cr3Loc', 'faultLoc', 'walkCtx', 'irqOn', 'irqOff', 'sb', 'bufferedStoreFp', 'bufferedCacheFps'] }],
      ['StoreBuffer', new Machine({ cpus: 1, memoryModel: 'tso' }).cpu(0).sb!, { saved: ['fifo'], setup: ['cpu', 'resolve', 'loc', 'sh', 'drainFp', 'drain', 'nonEmpty'] }],
      ['Tlb', m.cpu(0).tlb, { saved: ['small', 'large', 'psc', 'pin'], setup: ['cpu', 'geo', 'allLoc'] }],
      ['PageTable', m.init_mm, { saved: [], setup: ['name', 'root', 'mem', 'geo'] }],
    ];
    for (const [name, obj, { saved, setup }] of fields) {
      const have = Object.keys(obj).filter((k) => !CACHES.has(k)).sort();
      expect([name, have]).toEqual([name, [...saved, ...setup].sort()]);
    }
  });

  it('TLB entries travel as strings and come back equal', () => {
    const { m } = build();
    const c = m.cpu(0);
    const r = new Runner({ threads: [{ name: 'cpu0', body: function* () { yield* c.store(va(0x1000), 3); } }], invariants: [] });
    r.finish('cpu0');
    for (const e of c.tlb.entries()) expect(decodeEntry(encodeEntry(e))).toEqual(e);
    expect(c.tlb.entries().length).toBeGreaterThan(0);
  });
});

// Machine.hash (state-hash.ts): the state cache's fingerprint of a machine, field by field.
describe('Machine.hash', () => {
  /** Every state the scenario passes through (the same scenario that reaches every kind of state). */
  function savedStates(n: number, tso = false): { states: unknown[]; hashOf: (s: unknown) => string } {
    const a = tso ? buildTso() : build();
    const r = new Runner(a.program);
    const states: unknown[] = [];
    for (let i = 0; i < n; i++) {
      states.push(a.program.state!.save());
      runSome(r, a.program, 1);
    }
    // A fresh build's state each time: no place remembers an object hashed before.
    const hashOf = (s: unknown) => {
      const f = stateFingerprint(s, [], (tso ? buildTso() : build()).program.state);
      return `${f.lo}:${f.hi}`;
    };
    return { states, hashOf };
  }

  /** The scenario's threads on a TSO machine (store buffers in the saved state). */
  function buildTso() {
    const m = new Machine({ ...OPTIONS, memoryModel: 'tso' });
    const user = m.newMm('user');
    const O = m.memory.allocFrame('O', 'pte');
    const A = m.memory.allocFrame('A', 'data');
    user.populate(va(0), O);
    user.mapPage(va(0), A, PAGE_SHARED);
    m.setMm(0, user);
    const v = m.var('counter');
    const threads: ThreadSpec[] = [
      { name: 'cpu0', body: function* () { yield* m.cpu(0).store(va(0), 5); yield* WRITE_ONCE(v, 2); yield* m.cpu(0).load(va(0)); } },
      ...m.actors(),
    ];
    return { m, program: { threads, invariants: [], state: m.state } as Program };
  }

  /** Copies of `s`, each with one leaf changed or one list one item longer. */
  function* mutants(s: unknown): Generator<[string, unknown]> {
    function* at(x: unknown, path: string, set: (y: unknown) => unknown): Generator<[string, unknown]> {
      if (typeof x === 'number') yield [path, set(x + 1)];
      else if (typeof x === 'boolean') yield [path, set(!x)];
      else if (typeof x === 'string') yield [path, set(`${x}'`)];
      else if (x === undefined) yield [path, set('x')];
      else if (Array.isArray(x)) {
        yield [`${path}.length`, set([...x, x.length > 0 ? x[x.length - 1] : 0])];
        for (let i = 0; i < x.length; i++) yield* at(x[i], `${path}[${i}]`, (y) => set(x.map((z, j) => (j === i ? y : z))));
      } else if (typeof x === 'object' && x !== null) {
        for (const k of Object.keys(x)) yield* at((x as Record<string, unknown>)[k], `${path}.${k}`, (y) => set({ ...x, [k]: y }));
      }
    }
    yield* at(s, 'saved', (y) => y);
  }

  it('tells apart saved states that differ in any one field: every field is hashed', () => {
    for (const tso of [false, true]) {
      const { states, hashOf } = savedStates(tso ? 12 : 60, tso);
      const paths = new Set<string>();
      for (const s of states) {
        const h = hashOf(s);
        for (const [path, m] of mutants(s)) {
          paths.add(path.replace(/\[\d+\]/g, '[]'));
          if (hashOf(m) === h) expect.fail(`changing ${path} leaves the fingerprint as it was`);
        }
      }
      // Every part's fields were there to change: TLB entries, the pin, IPIs, acks, locks, faults…
      const kinds = tso ? ['.sb[][].loc', '.sb[][].value', '.tlb.small[].source'] : ['.tlb.small[].dirty', '.tlb.pin.serial', '.tlb.psc[]', '.ipis[].from', '.acks[]', '.locks[].holder', '.faults[].why', '.freedWrites[].value', '.names[]', '.vars[]', '.pages[]'];
      for (const p of kinds) expect([...paths].some((q) => q.endsWith(p)), p).toBe(true);
    }
  });

  it('hashes equal saved states alike, whatever objects hold them, TLB entries made in any field order', () => {
    const { states, hashOf } = savedStates(60);
    // A fill makes an entry field by field, a decoded step result in another order (tlb.ts):
    // the same entry either way. The generic walk told them apart (27 % more states on two
    // writers).
    const reorder = (x: unknown): unknown => {
      if (Array.isArray(x)) return x.map(reorder);
      if (typeof x !== 'object' || x === null) return x;
      const keys = Object.keys(x);
      if (keys.includes('serial')) keys.reverse();
      return Object.fromEntries(keys.map((k) => [k, reorder((x as Record<string, unknown>)[k])]));
    };
    const distinct = new Set<string>();
    for (const s of states) {
      expect(hashOf(structuredClone(s))).toBe(hashOf(s));
      expect(hashOf(reorder(s))).toBe(hashOf(s));
      distinct.add(hashOf(s));
    }
    expect(distinct.size).toBeGreaterThan(20);
  });
});
