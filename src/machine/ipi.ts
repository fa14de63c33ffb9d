// Remote TLB shootdown. The sender posts a request to every target CPU (one Step), flushes
// locally, then waits for every ack (a Step enabled only once all acks are in — a disabled
// step, not a spin loop). Delivery is an actor per target CPU, enabled only while a request is
// pending, the target's interrupts are on, and it is between instructions; it flushes that
// CPU's TLB and acks. A CPU that spins with interrupts off never acks: the engine then finds
// no enabled step and reports a deadlock.
//
// Locations: `ipi:<cpu>` the request queue; `ack:<sender>:<target>` one ack;
// `irq:<cpu>`, `cpu:<cpu>:insn`, `cr3:<cpu>` read by delivery / target selection.
import { type Access, type Step, type ThreadSpec } from '../engine/types.js';
import type { Cpu } from './cpu.js';
import { serialisedOp } from './tso/store-buffer.js';
import type { PageTable } from './pagetable.js';
import { forever, joinAccesses, readOf, writeOf, stableStep } from './step.js';
import type { TlbEntry } from './tlb.js';
import type { CpuId, VirtAddr } from './types.js';

export type FlushRequest =
  | { readonly kind: 'all' }
  | { readonly kind: 'range'; readonly start: VirtAddr; readonly end: VirtAddr };

export interface IpiRequest {
  readonly from: CpuId;
  readonly flush: FlushRequest;
  /** The kernel call that sent it ("flush_tlb_all"). */
  readonly what: string;
}

/** Locations a flush of `req` on `cpu` touches, in the current state. */
export function flushAccesses(cpu: Cpu, req: FlushRequest): readonly Access[] {
  if (req.kind === 'all') return cpu.tlb.flushAllAccesses();
  return cpu.tlb.rangeFlushAccesses(req.start, req.end);
}

/** Perform the flush on `cpu`'s TLB now; returns a note. */
export function applyFlush(cpu: Cpu, req: FlushRequest): string {
  if (req.kind === 'all') return cpu.dropped(cpu.tlb.flushAll());
  const gone: TlbEntry[] = [];
  for (const v of cpu.host.geo.pages(req.start, req.end)) gone.push(...cpu.tlb.invalidate(v));
  return cpu.dropped(gone);
}

/** The texts of one shootdown call (kernel call and arguments), shared by every build. */
export interface ShootdownText {
  readonly what: string;
  readonly flush: FlushRequest;
  readonly sendLabel: string;
  readonly localLabel: string;
  readonly waitLabel: string;
  /** What each sender posts, by sender (immutable: one object serves every post). */
  readonly requests: IpiRequest[];
}
export const shootdownText = (flush: FlushRequest, what: string): ShootdownText => ({
  what,
  flush,
  sendLabel: `${what}: send IPIs`,
  localLabel: `${what}: local flush`,
  waitLabel: `${what}: wait for acks`,
  requests: [],
});

/** The send and wait footprints of a sender among `n` CPUs, to every other CPU or to those
 * running an mm (which reads their cr3), shared by every build: by n, sender, then 0 / 1. */
const sendFps: (readonly Access[])[][][] = [];
const waitFps: (readonly Access[])[][] = [];
function sendFp(sender: Cpu, others: readonly Cpu[], all: boolean): readonly Access[] {
  const n = others.length + 1;
  const bySender = ((sendFps[n] ??= [])[sender.id] ??= []);
  let fp = bySender[all ? 0 : 1];
  if (fp === undefined) {
    const out: Access[] = [];
    for (const c of others) {
      if (!all) out.push(readOf(c.cr3Loc));
      out.push(writeOf(c.ipiLoc), writeOf(sender.ackLoc(c.id)));
    }
    bySender[all ? 0 : 1] = fp = joinAccesses(out);
  }
  return fp;
}
function waitFp(sender: Cpu, others: readonly Cpu[]): readonly Access[] {
  const bySender = (waitFps[others.length + 1] ??= []);
  return (bySender[sender.id] ??= joinAccesses(others.map((c) => readOf(sender.ackLoc(c.id)))));
}

const allAcksIn = (say: (note: string) => void): void => say('all acks in');

/**
 * The sender's side: post to targets ('all' other CPUs, or those running `mm`), flush locally
 * (when the sender is a target), wait for every ack.
 */
export function shootdown(sender: Cpu, flush: FlushRequest, targets: 'all' | PageTable, what: string): Generator<Step, void, unknown> {
  const run = runShootdown(sender, shootdownText(flush, what), targets);
  // On TSO every step waits for the sender's store buffer, as the Cpu's flush_tlb_* do (the IPI
  // send is fenced: weak_wrmsr_fence() before the x2APIC ICR write; tso/README.md).
  return sender.sb === undefined ? run : serialisedOp(sender.sb, run);
}

/** The steps of a shootdown call whose texts are `text`. */
export function* runShootdown(sender: Cpu, text: ShootdownText, targets: 'all' | PageTable): Generator<Step, void, unknown> {
  const { flush } = text;
  const others = sender.others;
  if (others.length > 0) {
    const request = (text.requests[sender.id] ??= { from: sender.id, flush, what: text.what });
    yield stableStep(text.sendLabel, sendFp(sender, others, targets === 'all'), (say) => {
      const chosen = others.filter((c) => targets === 'all' || c.mm === targets);
      for (const c of chosen) {
        c.postIpi(request);
        sender.expectAck(c.id);
      }
      say(chosen.length ? `IPI → ${chosen.map((c) => c.name).join(', ')}` : 'no other CPU to flush');
    });
  }
  // The sender's own cr3, read by its own thread: see Cpu.ownMm. A range flush touches the same
  // locations in every state, a full flush does not.
  if (targets === 'all' || sender.ownMm === targets) {
    const fp = flush.kind === 'all' ? () => flushAccesses(sender, flush) : flushAccesses(sender, flush);
    yield stableStep(text.localLabel, fp, (say) => say(applyFlush(sender, flush)));
  }
  if (others.length > 0) yield stableStep(text.waitLabel, waitFp(sender, others), allAcksIn, () => sender.awaitingAcks.size === 0);
}

/** What IPI delivery on a CPU reads while nothing is pending, by CPU (shared by every build). */
const idleFps: (readonly Access[])[] = [];
/** The delivery actor's step label and thread name, by CPU (made once, not per build). */
const actorTexts: { readonly label: string; readonly name: string }[] = [];
const FLUSH_ALL: FlushRequest = { kind: 'all' };

/** Delivery footprints of one pending request (most deliveries): the idle reads, the queue,
 * the sender's ack and the flush, shared by every build. By the flush's accesses, a list shared
 * per CPU and geometry (so it names the CPU), then sender. */
const oneRequestFps = new Map<readonly Access[], (readonly Access[])[]>();
function oneRequestFp(cpu: Cpu, idle: readonly Access[], r: IpiRequest): readonly Access[] {
  const flush = flushAccesses(cpu, r.flush);
  let bySender = oneRequestFps.get(flush);
  if (bySender === undefined) oneRequestFps.set(flush, (bySender = []));
  return (bySender[r.from] ??= joinAccesses(idle, [writeOf(cpu.ipiLoc), writeOf(cpu.host.cpuList[r.from]!.ackLoc(cpu.id))], flush));
}

/** The delivery actor for `cpu`: handles every pending request at once, then acks. */
export function ipiActor(cpu: Cpu): ThreadSpec {
  const cpus = cpu.host.cpuList;
  // What delivery reads while nothing is pending (most of the time): one list per CPU.
  const idle = (idleFps[cpu.id] ??= joinAccesses([readOf(cpu.irqLoc), readOf(cpu.insnLoc), readOf(cpu.ipiLoc)]));
  const fp = (): readonly Access[] => {
    const reqs = cpu.ipiPending;
    if (reqs.length === 0) return idle;
    if (reqs.length === 1) return oneRequestFp(cpu, idle, reqs[0]!);
    const acc: Access[] = [...idle, writeOf(cpu.ipiLoc)];
    const full = reqs.some((r) => r.flush.kind === 'all');
    for (const r of reqs) acc.push(writeOf(cpus[r.from]!.ackLoc(cpu.id)));
    if (full) acc.push(...flushAccesses(cpu, FLUSH_ALL));
    else for (const r of reqs) acc.push(...flushAccesses(cpu, r.flush));
    return acc;
  };
  const deliver = (say: (note: string) => void): void => {
    const reqs = cpu.takeIpis();
    if (reqs.length === 1) {
      // The usual case, as the loop below does it without the list of notes.
      const r = reqs[0]!;
      const note = `${r.what} from cpu${r.from}: ${applyFlush(cpu, r.flush)}`;
      cpus[r.from]!.acked(cpu.id);
      return say(note);
    }
    const notes: string[] = [];
    // One full flush covers every request; the footprint was made the same way.
    const full = reqs.some((r) => r.flush.kind === 'all');
    let flushed = false;
    for (const r of reqs) {
      if (!full) notes.push(`${r.what} from cpu${r.from}: ${applyFlush(cpu, r.flush)}`);
      else if (!flushed) notes.push(`${r.what} from cpu${r.from}: ${applyFlush(cpu, FLUSH_ALL)}`);
      else notes.push(`${r.what} from cpu${r.from}: covered by the full flush`);
      flushed = full;
      cpus[r.from]!.acked(cpu.id);
    }
    say(notes.join('; '));
  };
  const canDeliver = (): boolean => cpu.ipiPending.length > 0 && cpu.irqEnabled && !cpu.inInsn;
  const { label, name } = (actorTexts[cpu.id] ??= { label: `IPI on ${cpu.name}: flush and ack`, name: `ipi→${cpu.name}` });
  return {
    name,
    actor: true,
    // Each delivery takes what is queued now; the handler remembers nothing between them.
    memoryless: true,
    body: () => forever(() => stableStep(label, fp, deliver, canDeliver)),
  };
}
