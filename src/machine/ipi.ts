// Remote TLB shootdown. The sender posts a request to every target CPU (one Step), flushes
// locally, then waits for every ack (a Step enabled only once all acks are in — a disabled
// step, not a spin loop). Delivery is an actor per target CPU, enabled only while a request is
// pending, the target's interrupts are on, and it is between instructions; it flushes that
// CPU's TLB and acks. A CPU that spins with interrupts off never acks: the engine then finds
// no enabled step and reports a deadlock.
//
// Locations: `ipi:<cpu>` the request queue; `ack:<sender>:<target>` one ack;
// `irq:<cpu>`, `cpu:<cpu>:insn`, `cr3:<cpu>` read by delivery / target selection.
import { type Access, type Step, type ThreadSpec, read, write } from '../engine/types.js';
import type { Cpu } from './cpu.js';
import type { PageTable } from './pagetable.js';
import { mkStep, op } from './step.js';
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
export function flushAccesses(cpu: Cpu, req: FlushRequest): Access[] {
  if (req.kind === 'all') return cpu.tlb.flushAllAccesses();
  const seen = new Set<string>();
  const out: Access[] = [];
  for (const v of cpu.host.geo.pages(req.start, req.end)) {
    for (const a of cpu.tlb.invlpgAccesses(v)) {
      const k = `${a.loc}/${a.write}`;
      if (!seen.has(k)) {
        seen.add(k);
        out.push(a);
      }
    }
  }
  return out;
}

/** Perform the flush on `cpu`'s TLB now; returns a note. */
export function applyFlush(cpu: Cpu, req: FlushRequest): string {
  if (req.kind === 'all') return cpu.dropped(cpu.tlb.flushAll());
  const gone: TlbEntry[] = [];
  for (const v of cpu.host.geo.pages(req.start, req.end)) gone.push(...cpu.tlb.invalidate(v));
  return cpu.dropped(gone);
}

/**
 * The sender's side: post to targets ('all' other CPUs, or those running `mm`), flush locally
 * (when the sender is a target), wait for every ack.
 */
export function* shootdown(sender: Cpu, flush: FlushRequest, targets: 'all' | PageTable, what: string): Generator<Step, void, unknown> {
  const others = sender.host.cpuList.filter((c) => c !== sender);
  if (others.length > 0) {
    const fp: Access[] = [];
    for (const c of others) {
      if (targets !== 'all') fp.push(read(c.cr3Loc));
      fp.push(write(c.ipiLoc), write(sender.ackLoc(c.id)));
    }
    yield* op(
      mkStep(`${what}: send IPIs`, fp, (say) => {
        const chosen = others.filter((c) => targets === 'all' || c.mm === targets);
        for (const c of chosen) {
          c.postIpi({ from: sender.id, flush, what });
          sender.expectAck(c.id);
        }
        say(chosen.length ? `IPI → ${chosen.map((c) => c.name).join(', ')}` : 'no other CPU to flush');
      }),
    );
  }
  // The sender's own cr3, read by its own thread: see Cpu.ownMm.
  if (targets === 'all' || sender.ownMm === targets) {
    yield* op(mkStep(`${what}: local flush`, () => flushAccesses(sender, flush), (say) => say(applyFlush(sender, flush))));
  }
  if (others.length > 0) {
    yield* op(
      mkStep(
        `${what}: wait for acks`,
        others.map((c) => read(sender.ackLoc(c.id))),
        (say) => say('all acks in'),
        () => sender.awaitingAcks.size === 0,
      ),
    );
  }
}

/** The delivery actor for `cpu`: handles every pending request at once, then acks. */
export function ipiActor(cpu: Cpu): ThreadSpec {
  const cpus = cpu.host.cpuList;
  const fp = (): readonly Access[] => {
    const acc: Access[] = [read(cpu.irqLoc), read(cpu.insnLoc), read(cpu.ipiLoc)];
    if (cpu.ipiPending.length === 0) return acc;
    acc.push(write(cpu.ipiLoc));
    const reqs = cpu.ipiPending;
    const full = reqs.some((r) => r.flush.kind === 'all');
    for (const r of reqs) acc.push(write(cpus[r.from]!.ackLoc(cpu.id)));
    if (full) acc.push(...flushAccesses(cpu, { kind: 'all' }));
    else for (const r of reqs) acc.push(...flushAccesses(cpu, r.flush));
    return acc;
  };
  const deliver = (): Step =>
    mkStep(
      `IPI on ${cpu.name}: flush and ack`,
      fp,
      (say) => {
        const notes: string[] = [];
        const reqs = cpu.takeIpis();
        // One full flush covers every request; the footprint was made the same way.
        const full = reqs.some((r) => r.flush.kind === 'all');
        let flushed = false;
        for (const r of reqs) {
          if (!full) notes.push(`${r.what} from cpu${r.from}: ${applyFlush(cpu, r.flush)}`);
          else if (!flushed) notes.push(`${r.what} from cpu${r.from}: ${applyFlush(cpu, { kind: 'all' })}`);
          else notes.push(`${r.what} from cpu${r.from}: covered by the full flush`);
          flushed = full;
          cpus[r.from]!.acked(cpu.id);
        }
        say(notes.join('; '));
      },
      () => cpu.ipiPending.length > 0 && cpu.irqEnabled && !cpu.inInsn,
    );
  return {
    name: `ipi→${cpu.name}`,
    actor: true,
    body: function* () {
      for (;;) yield deliver();
    },
  };
}
