// x86-TSO store buffers: one FIFO per CPU, between the CPU and memory.
//
// The abstract machine is x86-TSO's (Owens, Sarkar, Sewell, "A Better x86 Memory Model:
// x86-TSO", TPHOLs 2009; Sewell et al., "x86-TSO: A Rigorous and Usable Programmer's Model for
// x86 Multiprocessors", CACM 53(7), 2010), which the Intel SDM vol. 3A §8.2.2–§8.2.3 ("Memory
// Ordering in P6 and More Recent Processor Families", the examples of §8.2.3) and the "Intel 64
// Architecture Memory Ordering White Paper" (318147-001, 2007) agree with:
// - a store enters its CPU's buffer; it reaches memory later, in order (stores are not
//   reordered with other stores, SDM §8.2.3.2; "stores are seen in a consistent order by other
//   processors", §8.2.3.7);
// - a load of the CPU's own reads the youngest buffered store to its address if there is one
//   ("intra-processor forwarding is allowed", §8.2.3.5, white paper §2.4), else memory — so a
//   load may pass an older store to another address (§8.2.3.4), the only reordering TSO has;
// - MFENCE, a locked instruction (§8.2.3.8 "locked instructions have a total order", §8.2.3.9
//   "loads and stores are not reordered with locked instructions") and a serialising
//   instruction (§8.3) wait until the buffer is empty.
//
// A drain — the oldest entry written to memory — is a step of an actor per CPU, enabled while
// its buffer holds something, so the search places every drain anywhere it could happen.
//
// Locations: `sb:<cpu>` is the buffer's shape — empty or not, which entry is oldest. Fences and
// locked operations read it (their `enabled`), a drain reads and writes it, and a store writes
// it only when it finds the buffer empty (it enables the drain; appending behind an entry
// changes neither the oldest entry nor emptiness). `sb:<cpu>:<loc>` is the buffer's entries for
// one location: a store and a drain of it write it, a load of it reads it (to forward, or to
// know there is nothing to forward). So a load commutes with drains of other locations, and a
// store with the drain of an older entry — as they do on the machine. The DPOR-vs-DFS tests on
// random TSO programs (test/machine/tso-dpor-vs-dfs.test.ts) check these footprints.
import { noteRead, noteWrite } from '../../engine/audit.js';
import type { Access, Loc, Step, ThreadBody, ThreadSpec } from '../../engine/types.js';
import { type Stateful, reuseList } from '../state.js';
import { forever, joinAccesses, readOf, readsOf, rmwOf, writeOf, stableStep } from '../step.js';

/** The memory model of a machine: sequentially consistent, or x86-TSO with store buffers. */
export type MemoryModel = 'sc' | 'tso';
export const MEMORY_MODELS: readonly MemoryModel[] = ['sc', 'tso'];

// The memory model of a machine whose options name none: 'sc', or what the environment variable
// MMCHECK_MEMORY_MODEL says — read once, when this module loads — so that models which do not
// pass the option themselves (the built-in ones) can be run under TSO:
//   MMCHECK_MEMORY_MODEL=tso npx mmcheck explore ptmigrate
// A trace made so replays under the same setting only.
const fromEnv = typeof process === 'undefined' ? undefined : process.env.MMCHECK_MEMORY_MODEL;
let defaultModel: string = fromEnv === undefined || fromEnv === '' ? 'sc' : fromEnv;
/** The memory model a `new Machine` without `memoryModel` gets. */
export function defaultMemoryModel(): MemoryModel {
  if (!(MEMORY_MODELS as readonly string[]).includes(defaultModel)) throw new Error(`MMCHECK_MEMORY_MODEL must be one of ${MEMORY_MODELS.join(', ')}, got "${defaultModel.slice(0, 20)}"`);
  return defaultModel as MemoryModel;
}
/** Sets that default for this process (tests; the environment variable sets it at start). */
export function setDefaultMemoryModel(m: MemoryModel): void {
  defaultModel = m;
}

/** One buffered store: the location it will write and the value. Immutable (saved lists share it). */
export interface SbEntry {
  readonly loc: Loc;
  readonly value: number;
}

/** Where a drained store lands: a memory word, a model variable, a lock word (a Cell fits). */
export interface StoreSink {
  readonly name: string;
  set(v: number, by?: string): void;
  writeAccesses(): readonly Access[];
}

/** Turns a buffered location back into where it is written (the machine knows its cells). */
export type SinkResolver = (loc: Loc) => StoreSink;

export const sbLoc = (cpu: number): Loc => `sb:${cpu}`;

/** A location's entries in one CPU's buffer, and the footprints that touch them. */
interface SlotShared {
  readonly read: Access;
  /** [write slot], and [read sb, write sb, write slot] (a store into an empty buffer), each
   * after a prefix, by the prefix list. */
  readonly stores: Map<readonly Access[], { readonly into: readonly Access[]; readonly intoEmpty: readonly Access[] }>;
  /** A data footprint with the slot read added, by the footprint it extends. */
  readonly loads: Map<readonly Access[], readonly Access[]>;
}

/** Footprints shared by every build: per CPU, and per (CPU, sink location). */
interface SbShared {
  readonly loc: Loc;
  readonly read: Access;
  readonly reads: readonly Access[];
  readonly rmw: readonly Access[];
  readonly drainLabel: string;
  readonly actorName: string;
  /** A drain of an entry at a location: [sb read and write, the sink's write accesses]. */
  readonly drainFps: Map<Loc, readonly Access[]>;
  /** A data footprint with the buffer read added, by the footprint it extends. */
  readonly withRead: Map<readonly Access[], readonly Access[]>;
  readonly slots: Map<Loc, SlotShared>;
}
const shared: SbShared[] = [];
function sbShared(cpu: number): SbShared {
  let s = shared[cpu];
  if (s === undefined) {
    const loc = sbLoc(cpu);
    s = shared[cpu] = {
      loc,
      read: readOf(loc),
      reads: readsOf(loc),
      rmw: rmwOf(loc),
      drainLabel: `drain cpu${cpu} store buffer`,
      actorName: `sb→cpu${cpu}`,
      drainFps: new Map(),
      withRead: new Map(),
      slots: new Map(),
    };
  }
  return s;
}

const entries = new Map<Loc, Map<number, SbEntry>>();
/** The entry for (loc, value), one object per pair: saved lists then compare and hash cheaply. */
function entryOf(loc: Loc, value: number): SbEntry {
  let byValue = entries.get(loc);
  if (byValue === undefined) entries.set(loc, (byValue = new Map()));
  let e = byValue.get(value);
  if (e === undefined) {
    if (byValue.size >= 1 << 12) byValue.clear(); // a bound, never reached by small programs
    byValue.set(value, (e = { loc, value }));
  }
  return e;
}

/** `sb:<cpu>:<loc>`: the entries of one location in one CPU's buffer. */
export const sbSlotLoc = (cpu: number, loc: Loc): Loc => `sb:${cpu}:${loc}`;
function slotOf(sh: SbShared, cpu: number, loc: Loc): SlotShared {
  let t = sh.slots.get(loc);
  if (t === undefined) {
    if (sh.slots.size >= 1 << 14) sh.slots.clear(); // a bound, never reached by small programs
    t = { read: readOf(sbSlotLoc(cpu, loc)), stores: new Map(), loads: new Map() };
    sh.slots.set(loc, t);
  }
  return t;
}

/** One CPU's store buffer. Every access is reported to the engine's audit (see the locations above). */
export class StoreBuffer implements Stateful<readonly SbEntry[]> {
  readonly loc: Loc;
  private readonly fifo: SbEntry[] = [];
  private readonly sh: SbShared;
  private last: readonly SbEntry[] | undefined;

  constructor(readonly cpu: number, private readonly resolve: SinkResolver) {
    this.sh = sbShared(cpu);
    this.loc = this.sh.loc;
  }

  // ---- Program.state: raw copies, not audited ----
  save(): readonly SbEntry[] {
    return (this.last = reuseList(this.last, this.fifo));
  }
  restore(s: readonly SbEntry[]): void {
    if (this.fifo.length !== 0) this.fifo.length = 0;
    for (const e of s) this.fifo.push(e);
    this.last = s;
  }
  /** The entries, oldest first, for snapshots and final states (not audited). */
  contents(): readonly SbEntry[] {
    return this.fifo;
  }
  /** The entries as traces show them, oldest first: "P[0] := 5". */
  describe(): string[] {
    return this.fifo.map((e) => `${this.resolve(e.loc).name} := ${e.value}`);
  }

  /** Nothing is buffered (a fence's and a locked operation's `enabled`). */
  get empty(): boolean {
    noteRead(this.loc);
    return this.fifo.length === 0;
  }
  /** The youngest buffered value for `loc`, or undefined: what a load of the CPU's own forwards. */
  forward(loc: Loc): number | undefined {
    noteRead(sbSlotLoc(this.cpu, loc));
    for (let i = this.fifo.length - 1; i >= 0; i--) if (this.fifo[i]!.loc === loc) return this.fifo[i]!.value;
    return undefined;
  }
  /** A store of the CPU enters the buffer. */
  push(loc: Loc, value: number): void {
    if (this.fifo.length === 0) noteWrite(this.loc);
    noteWrite(sbSlotLoc(this.cpu, loc));
    this.fifo.push(entryOf(loc, value));
  }
  /** What a store of `loc` touches now, after `prefix` (the CPU's own accesses): its slot, and
   * the buffer's shape when the buffer is empty. Evaluate it when the step is (a footprint
   * function): a drain may empty the buffer meanwhile. */
  storeAccesses(prefix: readonly Access[], loc: Loc): readonly Access[] {
    const slot = slotOf(this.sh, this.cpu, loc);
    let fps = slot.stores.get(prefix);
    if (fps === undefined) {
      if (slot.stores.size >= 1 << 10) slot.stores.clear(); // a bound on memory
      const w = writeOf(sbSlotLoc(this.cpu, loc));
      fps = { into: joinAccesses(prefix, [w]), intoEmpty: joinAccesses(prefix, this.sh.rmw, [w]) };
      slot.stores.set(prefix, fps);
    }
    return this.fifo.length === 0 ? fps.intoEmpty : fps.into;
  }
  /** `fp` with the read of `loc`'s slot added: a load that may forward. */
  loadAccesses(fp: readonly Access[], loc: Loc): readonly Access[] {
    const slot = slotOf(this.sh, this.cpu, loc);
    let out = slot.loads.get(fp);
    if (out === undefined) {
      if (slot.loads.size >= 1 << 10) slot.loads.clear(); // a bound on memory
      slot.loads.set(fp, (out = joinAccesses(fp, [slot.read])));
    }
    return out;
  }

  /** `[read sb:<cpu>]`: the footprint of a fence. */
  get readAccesses(): readonly Access[] {
    return this.sh.reads;
  }
  /** `fp` with the read of the buffer's shape added (a serialised step), one list per `fp`. */
  withRead(fp: readonly Access[]): readonly Access[] {
    let out = this.sh.withRead.get(fp);
    if (out === undefined) {
      if (this.sh.withRead.size >= 1 << 14) this.sh.withRead.clear(); // a bound on memory
      this.sh.withRead.set(fp, (out = joinAccesses(fp, [this.sh.read])));
    }
    return out;
  }

  // ---- the drain actor ----

  /** What the drain touches now: the buffer, and the oldest entry's location (when there is one). */
  private readonly drainFp = (): readonly Access[] => {
    const head = this.fifo[0];
    if (head === undefined) return this.sh.rmw;
    let fp = this.sh.drainFps.get(head.loc);
    if (fp === undefined) this.sh.drainFps.set(head.loc, (fp = joinAccesses(this.sh.rmw, [writeOf(sbSlotLoc(this.cpu, head.loc))], this.resolve(head.loc).writeAccesses())));
    return fp;
  };
  private readonly drain = (say: (note: string) => void): void => {
    noteWrite(this.loc);
    const head = this.fifo.shift();
    if (head === undefined) throw new Error(`${this.sh.drainLabel}: the buffer is empty`);
    noteWrite(sbSlotLoc(this.cpu, head.loc));
    const sink = this.resolve(head.loc);
    sink.set(head.value, `cpu${this.cpu} store buffer`);
    say(`${sink.name} := ${head.value}${this.fifo.length ? ` (${this.fifo.length} still buffered)` : ''}`);
  };
  private readonly nonEmpty = (): boolean => !this.empty;

  /** The actor that drains this buffer, one entry a step, oldest first. */
  actor(): ThreadSpec {
    const label = this.sh.drainLabel;
    const fp = this.drainFp;
    const run = this.drain;
    const enabled = this.nonEmpty;
    return {
      name: this.sh.actorName,
      actor: true,
      // Each drain takes the oldest entry now; the actor remembers nothing between drains.
      memoryless: true,
      body: (): ThreadBody => forever(() => stableStep(label, fp, run, enabled)),
    };
  }
}

/**
 * `inner`, waiting first for `sb` to be empty: a serialising instruction or a locked operation
 * (SDM §8.3: serialising instructions "drain all buffered writes to memory before the next
 * instruction is fetched and executed"; §8.2.5: locked operations "wait … for all buffered
 * writes to drain to memory"). The rules, with their sources: tso/README.md.
 * Waiting is a disabled step, as x86-TSO's rule "a fence or a locked instruction can proceed only
 * when the buffer is empty"; the drains stay steps of their own that the search orders.
 */
class Serialised<T> implements Step<T> {
  readonly label: string;
  readonly footprint: Step['footprint'];
  /** Stable when `inner` is: what it adds reads the store buffer, shared state, only. */
  readonly stable: boolean | undefined;
  note: string | undefined = undefined;
  constructor(private readonly sb: StoreBuffer, private readonly inner: Step<T>) {
    this.label = inner.label;
    this.stable = inner.stable;
    const f = inner.footprint;
    // A footprint function may make a new list at every call: joined afresh, not kept.
    this.footprint = typeof f === 'function' ? () => joinAccesses(f(), sb.readAccesses) : sb.withRead(f);
  }
  enabled(): boolean {
    return this.sb.empty && (this.inner.enabled === undefined || this.inner.enabled());
  }
  run(): T {
    // The inner step's note even when it throws (a kept step run again keeps none of before).
    try {
      return this.inner.run();
    } finally {
      this.note = this.inner.note;
    }
  }
}
export const serialised = <T>(sb: StoreBuffer, s: Step<T>): Step<T> => new Serialised(sb, s);

/** Every step of `op`, serialised on `sb`. */
export function* serialisedOp<T>(sb: StoreBuffer, op: Generator<Step, T, unknown>): Generator<Step, T, unknown> {
  let r = op.next();
  while (!r.done) r = op.next(yield new Serialised(sb, r.value));
  return r.value;
}
