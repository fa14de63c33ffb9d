// TLB entry serials (TlbEntry.serial): a fill's identity while an instruction holds it, and
// nothing more — so a TLB saves the same state whatever fills came before (the state cache
// merges such states), and a refill during an instruction is still told apart from the entry
// the instruction holds.
import { describe, expect, it } from 'vitest';
import { Machine, PAGE_SHARED, planWalk, va } from '../../src/machine/index.js';
import { applyWalk } from '../../src/machine/walk.js';

function machine() {
  const m = new Machine({ cpus: 1, frames: 8 });
  const A = m.memory.allocFrame('A', 'data');
  m.init_mm.mapPage(va(0), A, PAGE_SHARED);
  const cpu = m.cpu(0);
  const fill = () => {
    const plan = planWalk(cpu.walkContext, va(0));
    if (plan.kind !== 'fill') throw new Error('expected a fill');
    applyWalk(cpu.walkContext, plan, 'test');
    return plan.entry;
  };
  return { m, cpu, fill };
}

describe('TLB serials', () => {
  it('an evicted and refilled TLB saves the state it saved after the first fill', () => {
    const { cpu, fill } = machine();
    fill();
    const once = structuredClone(cpu.tlb.save());
    cpu.tlb.evict(va(0));
    fill();
    expect(cpu.tlb.save()).toEqual(once);
  });

  it('a refill while an instruction holds the evicted entry is a different fill, and the release makes it 1 again', () => {
    const { cpu, fill } = machine();
    const held = fill();
    cpu.tlb.hold(held);
    cpu.tlb.evict(va(0));
    const refill = fill();
    expect(refill.serial).not.toBe(held.serial);
    // The D update of the held entry finds it gone (the slot holds another fill).
    expect(cpu.tlb.update(held, { ...held, dirty: true })).toBeNull();
    cpu.tlb.release();
    expect(cpu.tlb.lookup(va(0))).toEqual({ ...refill, serial: 1 });
    expect(cpu.tlb.save().pin).toBeNull();
  });

  it('the D update of the held entry keeps it held', () => {
    const { cpu, fill } = machine();
    const held = fill();
    cpu.tlb.hold(held);
    const nu = cpu.tlb.update(held, { ...held, dirty: true });
    expect(nu).toMatchObject({ dirty: true, serial: held.serial });
    expect(cpu.tlb.save().pin).toEqual(nu);
  });
});
