// The machine-state fragments of the HTML view, without a browser: TLB rows against their
// source entries, and the marking of exactly what a step changed.
import { describe, expect, it } from 'vitest';
import { isStale, stateHtml } from '../../src/trace/state-view.js';

const tlb = { size: '4K', va: '0x0', pfn: 'D0', rights: 'RW', dirty: true, cache: 'WB', source: 'P0[0]' };
const machine = (entry: string, tlbs: string[]) => ({
  cpus: [{ cpu: 0, mm: 'init_mm', irq: true, inInsn: false, tlb: tlbs, psc: [], ipiPending: [], awaitingAcks: [] }],
  tables: { 'pgd (pmd)': ['P0 RW A D', 'none'], 'P0 (pte)': [entry, 'none'] },
  data: { D0: [0, 0] },
  pages: { H: { count: 1, mapcount: 0, flags: ['head'] } },
  locks: [],
});

describe('stale TLB entries', () => {
  it('is stale when its source entry maps another frame, other rights, or nothing', () => {
    expect(isStale(tlb, 'D0 RW A D NX')).toBe(false);
    expect(isStale(tlb, 'D0 RO A D NX')).toBe(true);
    expect(isStale(tlb, 'D1 RW A D NX')).toBe(true);
    expect(isStale(tlb, 'none')).toBe(true);
    expect(isStale({ ...tlb, size: '2M' }, 'D0 RW A D')).toBe(true); // the large page was split
    expect(isStale(tlb, 'D0 RW A D NX UC')).toBe(true); // cache type changed
    expect(isStale(tlb, undefined)).toBe(false); // source not shown: no claim
  });
});

describe('stateHtml', () => {
  it('renders the TLB as rows and marks only what the step changed', () => {
    const before = machine('D0 RW A D NX', ['4K 0x0→D0 RW D from P0[0]']);
    const after = machine('D0 RO A D NX', ['4K 0x0→D0 RW D from P0[0]']);
    const html = stateHtml(after, before, 1);
    expect(html).toContain('<tr class="stale"><td>0x0</td><td>D0</td><td>RW</td><td>D</td><td>4K</td><td>WB</td>');
    expect(html.match(/class="[^"]*changed[^"]*"/g)).toEqual(['class="changed"']);
    expect(html).toContain('<td class="changed">D0 RO A D NX</td>');
    expect(html).toContain('<th>_count</th>');
  });

  it('marks nothing in the initial state and escapes model text', () => {
    const html = stateHtml({ '<b>x</b>': ['<script>'] }, undefined, 0);
    expect(html).not.toContain('changed');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
  });
});
