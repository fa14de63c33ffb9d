// The machine's saved state mixed into a state fingerprint field by field (ProgramState.hash).
//
// The state cache fingerprints every state a search reaches. Its generic walk over the saved
// tree (engine/fingerprint.ts) takes every key and every value's type as it comes; the machine
// knows its saved shapes, so it mixes the same facts directly, and each part (memory, a CPU, a
// TLB, the locks…) once per saved object: a save reuses an unchanged part's object (state.ts),
// so a step that changes one CPU costs the hashing of that CPU (two writers: fingerprinting
// went from 19 % of the search to 10 %).
//
// It also hashes what a TLB entry holds, not the order its fields were made in: a fill makes
// an entry field by field (walk.ts), a decoded step result in another order (decodeEntry), and
// the generic walk, which mixes keys in their order, took the same entry for two (two writers:
// 314,391 states where there are 227,933).
//
// Every field of every saved type is mixed, each list's length before its items, an absent
// value marked apart from any present one: equal fingerprints must mean equal saved states.
// test/machine/state.test.ts ("Machine.hash") fails when a saved type gains a field this file
// does not mix.
import { HashPlace, type StateHasher } from '../engine/fingerprint.js';
import type { CpuState, FaultRecord } from './cpu.js';
import type { LockState } from './locks.js';
import type { MachineState } from './machine.js';
import type { MemoryState } from './memory.js';
import type { TlbEntry, TlbState } from './tlb.js';

const numbers = (xs: readonly number[], h: StateHasher): void => {
  h.num(xs.length);
  for (let i = 0; i < xs.length; i++) h.num(xs[i]!);
};

const booleans = (xs: readonly boolean[], h: StateHasher): void => {
  h.num(xs.length);
  for (let i = 0; i < xs.length; i++) h.bool(xs[i]!);
};

const strings = (xs: readonly (string | undefined)[], h: StateHasher): void => {
  h.num(xs.length);
  for (let i = 0; i < xs.length; i++) h.str(xs[i]);
};

/** Plain records of a few fields (IPI requests, faults into free frames): the generic walk. */
const values = (xs: readonly unknown[], h: StateHasher): void => {
  h.num(xs.length);
  for (let i = 0; i < xs.length; i++) h.value(xs[i]);
};

/** A string of a small known set by its index there (a number, not a string's hash looked
 * up); any other string by its hash, after a mark no index is. */
function oneOf(x: string, known: readonly string[], h: StateHasher): void {
  const i = known.indexOf(x);
  if (i >= 0) return h.num(i);
  h.num(-1);
  h.str(x);
}
const SIZES: readonly string[] = ['4K', '2M'];
const CACHE_TYPES: readonly string[] = ['WB', 'WC', 'UC'];

function hashEntry(e: TlbEntry | null, h: StateHasher): void {
  if (e === null) return h.bool(false);
  h.bool(true);
  h.num(e.va);
  oneOf(e.size, SIZES, h);
  h.num(e.pfn);
  h.bool(e.rw);
  h.bool(e.nx);
  oneOf(e.cacheType, CACHE_TYPES, h);
  h.bool(e.dirty);
  h.num(e.source);
  h.num(e.serial);
}

const entries = (xs: readonly TlbEntry[], h: StateHasher): void => {
  h.num(xs.length);
  for (let i = 0; i < xs.length; i++) hashEntry(xs[i]!, h);
};

function hashTlb(t: TlbState, h: StateHasher): void {
  entries(t.small, h);
  entries(t.large, h);
  numbers(t.psc, h);
  hashEntry(t.pin, h);
}

/** A CPU's saved state; its TLB once per saved TLB at `tlbAt`. */
function hashCpu(c: CpuState, h: StateHasher, tlbAt: HashPlace): void {
  h.bool(c.irq);
  h.bool(c.insn);
  h.num(c.mm);
  values(c.ipis, h);
  numbers(c.acks, h);
  h.part(tlbAt, c.tlb, hashTlb);
}

/** Memory's saved lists, each at a place of its own: a save reuses an unchanged list (most
 * steps change words, and names, roles and flags seldom). */
class MemoryHashPlaces {
  private readonly words = new HashPlace();
  private readonly allocated = new HashPlace();
  private readonly names = new HashPlace();
  private readonly roles = new HashPlace();
  private readonly cachedWB = new HashPlace();
  private readonly freedWrites = new HashPlace();
  readonly hash = (m: MemoryState, h: StateHasher): void => {
    h.part(this.words, m.words, numbers);
    h.part(this.allocated, m.allocated, booleans);
    h.part(this.names, m.names, strings);
    h.part(this.roles, m.roles, strings);
    h.part(this.cachedWB, m.cachedWB, booleans);
    h.part(this.freedWrites, m.freedWrites, values);
  };
}

const locks = (xs: readonly LockState[], h: StateHasher): void => {
  h.num(xs.length);
  for (let i = 0; i < xs.length; i++) {
    h.bool(xs[i]!.held);
    h.str(xs[i]!.holder);
  }
};

const faults = (xs: readonly FaultRecord[], h: StateHasher): void => {
  h.num(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const f = xs[i]!;
    h.num(f.cpu);
    h.num(f.va);
    h.str(f.access);
    h.str(f.kind);
    h.str(f.why);
  }
};

/** One machine's places: the object last hashed at each part, with its hash. */
export class MachineHashPlaces {
  private readonly memory = new HashPlace();
  private readonly memoryParts = new MemoryHashPlaces();
  private readonly pages = new HashPlace();
  private readonly locks = new HashPlace();
  private readonly vars = new HashPlace();
  private readonly faults = new HashPlace();
  private readonly sb = new HashPlace();
  private readonly cpus: HashPlace[] = [];
  /** Per CPU: its state hashed with its TLB's place (made once, not per state). */
  private readonly cpuHashers: ((c: CpuState, h: StateHasher) => void)[] = [];

  hash(s: MachineState, h: StateHasher): void {
    h.part(this.memory, s.memory, this.memoryParts.hash);
    h.part(this.pages, s.pages, numbers);
    h.num(s.cpus.length);
    for (let i = 0; i < s.cpus.length; i++) {
      if (this.cpus.length <= i) {
        const tlbAt = new HashPlace();
        this.cpus.push(new HashPlace());
        this.cpuHashers.push((c, hh) => hashCpu(c, hh, tlbAt));
      }
      h.part(this.cpus[i]!, s.cpus[i]!, this.cpuHashers[i]!);
    }
    h.part(this.locks, s.locks, locks);
    h.part(this.vars, s.vars, numbers);
    h.part(this.faults, s.faults, faults);
    // Store buffers (TSO only): lists of { loc, value }, by the generic walk.
    if (s.sb === undefined) h.bool(false);
    else {
      h.bool(true);
      h.value(s.sb, this.sb);
    }
  }
}
