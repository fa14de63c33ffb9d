// Where a buffered store lands when it drains. A saved store buffer holds location names, not
// objects (it is put back into another build of the program), so the drain finds the cell again
// by its location: a memory word (`mem:<pfn>:<i>`), a model variable (`var:<name>`), a lock
// (`lock:<name>`, a spinlock released by a plain store: x86's queued_spin_unlock is a byte
// store, arch/x86/include/asm/qspinlock.h, smp_store_release(&lock->locked, 0)) or a struct page
// field (`page:<pfn>:<field>`: atomic_set on _count or _mapcount is a plain store), or a frame's
// WB-lines flag (`cache:<pfn>`: a clflush, ordered with the CPU's stores, lands when it drains).
import type { Access, Loc } from '../../engine/types.js';
import type { Lock } from '../locks.js';
import type { PhysMemory } from '../memory.js';
import type { PageArray } from '../page.js';
import type { Var } from '../step.js';
import { pfn, physAddr } from '../types.js';
import type { StoreSink } from './store-buffer.js';

class LockWord implements StoreSink {
  constructor(private readonly lock: Lock) {}
  get name(): string {
    return this.lock.name;
  }
  set(v: number): void {
    this.lock.held = v !== 0;
    if (v === 0) this.lock.holder = undefined;
  }
  writeAccesses(): readonly Access[] {
    return this.lock.text.footprint;
  }
}
const lockWords = new WeakMap<Lock, LockWord>();

/** The sink at `loc` in this build of the machine. */
export function sinkAt(loc: Loc, memory: PhysMemory, vars: ReadonlyMap<string, Var>, locks: ReadonlyMap<string, Lock>, pages?: PageArray): StoreSink {
  const colon = loc.indexOf(':');
  const kind = loc.slice(0, colon);
  const rest = loc.slice(colon + 1);
  if (kind === 'mem') {
    const [f, i] = rest.split(':').map(Number);
    return memory.word(physAddr(pfn(f!), i!));
  }
  if (kind === 'cache') return memory.cacheSink(pfn(Number(rest)));
  if (kind === 'var') {
    const v = vars.get(rest);
    if (v !== undefined) return v;
  }
  if (kind === 'lock') {
    const l = locks.get(rest);
    if (l !== undefined) {
      let w = lockWords.get(l);
      if (w === undefined) lockWords.set(l, (w = new LockWord(l)));
      return w;
    }
  }
  if (kind === 'page' && pages !== undefined) {
    // A struct page field (`page:<pfn>:<field>`): atomic_set / set_page_count, a plain store.
    const [f, field] = rest.split(':');
    const p = pages.get(pfn(Number(f)));
    const cell = field === 'flags' ? p.flags : field === 'count' ? p._count : field === 'mapcount' ? p._mapcount : field === 'first' ? p.first_page : undefined;
    if (cell !== undefined) return cell;
  }
  throw new Error(`store buffer: no memory word, variable, lock, struct page field or cache flag at ${loc}`);
}
