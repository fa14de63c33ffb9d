// Page-table entries, encoded as numbers with x86's low flag bits (NX, bit 63 on x86, is
// bit 11 here so an entry stays a safe integer): value = pfn * 4096 + flags. Pure helpers are
// named like the kernel's; software writes to an entry are Steps on the entry's memory word.
import type { Step } from '../engine/types.js';
import * as A from './atomics.js';
import { issued } from './atomics.js';
import type { Cpu } from './cpu.js';
import type { WordCell } from './memory.js';
import { rmwAccesses, textFor, stableStep } from './step.js';
import { bufferedStore, lockedBy } from './tso/ops.js';
import { PAGE_SIZE, type Pfn, pfn as mkPfn } from './types.js';

/** An entry value, pte or pmd level (same format on x86). */
export type pte_t = number & { readonly __brand: 'pte_t' };
export type pmd_t = pte_t;
/** Protection / attribute bits (the low 12 bits of an entry). */
export type pgprot_t = number & { readonly __brand: 'pgprot_t' };
/** A pointer to an entry: a word of physical memory (`pte_t *` / `pmd_t *`). */
export type PtePtr = WordCell;

export const _PAGE_PRESENT = 1 << 0;
export const _PAGE_RW = 1 << 1;
export const _PAGE_USER = 1 << 2;
export const _PAGE_PWT = 1 << 3;
export const _PAGE_PCD = 1 << 4;
export const _PAGE_ACCESSED = 1 << 5;
export const _PAGE_DIRTY = 1 << 6;
/** PS: a pmd entry that maps a large page itself. */
export const _PAGE_PSE = 1 << 7;
export const _PAGE_GLOBAL = 1 << 8;
/** NX (bit 63 on x86; bit 11 in the model). */
export const _PAGE_NX = 1 << 11;
const FLAG_MASK = PAGE_SIZE - 1;

export type CacheType = 'WB' | 'WC' | 'UC';
const CACHE_BITS: Record<CacheType, number> = { WB: 0, WC: _PAGE_PWT, UC: _PAGE_PCD | _PAGE_PWT };

export const pgprot = (bits: number): pgprot_t => (bits & FLAG_MASK) as pgprot_t;
export const __pte = (v: number): pte_t => v as pte_t;

/** Kernel mapping: present, writable, A and D preset (as Linux does), NX, global. */
export const PAGE_KERNEL = pgprot(_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX | _PAGE_GLOBAL);
export const PAGE_KERNEL_RO = pgprot(_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_NX | _PAGE_GLOBAL);
export const PAGE_KERNEL_EXEC = pgprot(_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_GLOBAL);
export const PAGE_KERNEL_NOCACHE = pgprot(PAGE_KERNEL | _PAGE_PCD | _PAGE_PWT);
export const PAGE_KERNEL_LARGE = pgprot(PAGE_KERNEL | _PAGE_PSE);
/** User mapping, writable, D clear: the first store makes the hardware set D. */
export const PAGE_SHARED = pgprot(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX);
export const PAGE_READONLY = pgprot(_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX);
/** What pmd_populate writes: a pointer to a pte page. */
export const _PAGE_TABLE = pgprot(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY);

const flags = (v: number): number => v % PAGE_SIZE;
const has = (v: number, bit: number): boolean => (flags(v) & bit) !== 0;
const withFlags = (v: number, f: number): pte_t => (v - flags(v) + (f & FLAG_MASK)) as pte_t;
const setf = (v: number, bit: number): pte_t => withFlags(v, flags(v) | bit);
const clrf = (v: number, bit: number): pte_t => withFlags(v, flags(v) & ~bit);

export const pfn_pte = (f: Pfn, prot: pgprot_t): pte_t => (f * PAGE_SIZE + (prot & FLAG_MASK)) as pte_t;
export const mk_pte = pfn_pte;
export const pfn_pmd = pfn_pte;
export const pte_pfn = (v: pte_t): Pfn => mkPfn(Math.floor(v / PAGE_SIZE));
export const pmd_pfn = pte_pfn;
export const pte_flags = (v: pte_t): pgprot_t => pgprot(flags(v));
export const pte_pgprot = pte_flags;
/** Keep the pfn, take the protection bits from `prot`. */
export const pte_modify = (v: pte_t, prot: pgprot_t): pte_t => withFlags(v, prot);

export const pte_none = (v: pte_t): boolean => v === 0;
export const pte_present = (v: pte_t): boolean => has(v, _PAGE_PRESENT);
export const pte_write = (v: pte_t): boolean => has(v, _PAGE_RW);
export const pte_dirty = (v: pte_t): boolean => has(v, _PAGE_DIRTY);
export const pte_young = (v: pte_t): boolean => has(v, _PAGE_ACCESSED);
export const pte_exec = (v: pte_t): boolean => !has(v, _PAGE_NX);
export const pte_global = (v: pte_t): boolean => has(v, _PAGE_GLOBAL);
export const pte_mkdirty = (v: pte_t): pte_t => setf(v, _PAGE_DIRTY);
export const pte_mkclean = (v: pte_t): pte_t => clrf(v, _PAGE_DIRTY);
export const pte_mkyoung = (v: pte_t): pte_t => setf(v, _PAGE_ACCESSED);
export const pte_mkold = (v: pte_t): pte_t => clrf(v, _PAGE_ACCESSED);
export const pte_mkwrite = (v: pte_t): pte_t => setf(v, _PAGE_RW);
export const pte_wrprotect = (v: pte_t): pte_t => clrf(v, _PAGE_RW);
export const pte_mknx = (v: pte_t): pte_t => setf(v, _PAGE_NX);
export const pte_mkexec = (v: pte_t): pte_t => clrf(v, _PAGE_NX);
export const pte_mkpresent = (v: pte_t): pte_t => setf(v, _PAGE_PRESENT);
export const pte_clrpresent = (v: pte_t): pte_t => clrf(v, _PAGE_PRESENT);
export const pte_set_flags = (v: pte_t, bits: number): pte_t => setf(v, bits);
export const pte_clear_flags = (v: pte_t, bits: number): pte_t => clrf(v, bits);

export function pte_cachetype(v: pte_t): CacheType {
  const b = flags(v) & (_PAGE_PCD | _PAGE_PWT);
  if (b === 0) return 'WB';
  if (b === _PAGE_PWT) return 'WC';
  return 'UC';
}
export const pte_set_cachetype = (v: pte_t, t: CacheType): pte_t =>
  withFlags(v, (flags(v) & ~(_PAGE_PCD | _PAGE_PWT)) | CACHE_BITS[t]);

export const pmd_none = pte_none;
export const pmd_present = pte_present;
/** A PS entry: the pmd maps a large page itself. */
export const pmd_large = (v: pmd_t): boolean => pte_present(v) && has(v, _PAGE_PSE);
export const pte_mklarge = (v: pte_t): pte_t => setf(v, _PAGE_PSE);
export const pte_clrlarge = (v: pte_t): pte_t => clrf(v, _PAGE_PSE);

/** "pfn 3 P RW A D WB" / "none" / "pfn 3 (not present)". */
export function describePte(v: number, frameName: (f: Pfn) => string = (f) => `pfn ${f}`): string {
  const e = v as pte_t;
  if (pte_none(e)) return 'none';
  const parts = [frameName(pte_pfn(e))];
  if (!pte_present(e)) return `${parts[0]} (not present)`;
  parts.push(pte_write(e) ? 'RW' : 'RO');
  if (pte_young(e)) parts.push('A');
  if (pte_dirty(e)) parts.push('D');
  if (has(e, _PAGE_PSE)) parts.push('PS');
  if (!pte_exec(e)) parts.push('NX');
  const c = pte_cachetype(e);
  if (c !== 'WB') parts.push(c);
  return parts.join(' ');
}

// ---- software operations on entries: one Step each ----

/** Decode an entry, naming frames as the memory names them ("N RW A D"). Labels show entries
 * at every step (a thread yields its steps again whenever its execution is brought back), so
 * each value's text is kept, with the frame name it was made from. */
function show(ptep: PtePtr, v: number): string {
  const e = v as pte_t;
  if (pte_none(e)) return 'none';
  const name = ptep.memory.frameName(pte_pfn(e));
  const c = shown.get(v);
  if (c !== undefined && c.name === name) return c.text;
  if (shown.size >= 1 << 14) shown.clear(); // a bound, never reached by the built-in models
  const text = describePte(v, () => name);
  shown.set(v, { name, text });
  return text;
}
const shown = new Map<number, { readonly name: string; readonly text: string }>();

/** Labels "<what> <entry name>" by operation, then entry name; set_pte's by operation, entry
 * name, then the value's text. */
const rmwLabels = new Map<string, Map<string, string>>();
const setLabels = new Map<string, Map<string, Map<string, string>>>();
function inner<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) {
    if (m.size >= 1 << 12) m.clear(); // a bound, never reached by the built-in models
    m.set(k, (v = make()));
  }
  return v;
}
const rmwLabel = (what: string, ptep: PtePtr): string => textFor(inner(rmwLabels, what, () => new Map<string, string>()), ptep.name, (n) => `${what} ${n}`);
const setLabel = (what: string, ptep: PtePtr, v: number): string => {
  const byName = inner(inner(setLabels, what, () => new Map<string, Map<string, string>>()), ptep.name, () => new Map<string, string>());
  return textFor(byName, show(ptep, v), (text) => `${what} ${ptep.name} := ${text}`);
};

type Op<T> = Generator<Step, T, unknown>;

// Each takes the issuing CPU as an optional first argument (`set_pte(cpu, ptep, v)`; see
// atomics.ts `Issued`). On a TSO machine, by what x86-64 Linux compiles them to:
// - set_pte, set_pmd, pte_clear, pmd_clear, pmd_populate are plain stores: native_set_pte is
//   `WRITE_ONCE(*ptep, pte)`, native_set_pmd and native_pmd_clear the same, native_pte_clear
//   `native_set_pte(ptep, native_make_pte(0))`, pmd_populate_kernel `set_pmd(pmd, __pmd(...))`
//   (arch/x86/include/asm/pgtable_64.h, pgalloc.h); set_pte_atomic on x86-64 is native_set_pte
//   too (`native_set_pte_atomic(ptep, pte) { native_set_pte(ptep, pte); }`). They enter the
//   CPU's store buffer (SDM vol. 3A §8.2.3.2) — and a walk, even the CPU's own, reads memory,
//   not the buffer (§8.2.3.1; tso/README.md).
// - ptep_get / pmdp_get are plain loads (READ_ONCE), forwarding from the CPU's buffer (§8.2.3.5).
// - ptep_get_and_clear (`xchg`, native_ptep_get_and_clear on SMP), pte_xchg, pte_cmpxchg,
//   ptep_test_and_clear_dirty/young (`test_and_clear_bit`: `lock btr`), ptep_set_wrprotect
//   (`clear_bit`: `lock andb`) and the atomic flag updates are locked: they wait for the buffer
//   to drain, then act on memory (§8.1.2.2, §8.2.3.9).

/** Read an entry (ptep_get / READ_ONCE(*pmdp)). */
export const ptep_get = issued(function* (cpu: Cpu | undefined, ptep: PtePtr): Op<pte_t> {
  return (yield* (cpu === undefined ? A.READ_ONCE(ptep) : A.READ_ONCE(cpu, ptep))) as pte_t;
});
export const pmdp_get = ptep_get;

function* storeEntry(cpu: Cpu | undefined, ptep: PtePtr, v: pte_t, what: string, before?: () => void): Op<void> {
  const label = setLabel(what, ptep, v);
  const sb = cpu?.sb;
  if (sb !== undefined) {
    yield bufferedStore(sb, label, ptep, v, show(ptep, v), before);
    return;
  }
  yield stableStep(label, ptep.writeAccesses(), (say) => {
    const old = ptep.get();
    if (before !== undefined) before();
    ptep.set(v, `${what} ${ptep.name}`);
    say(`${ptep.name}: ${show(ptep, old)} → ${show(ptep, v)}`);
  });
}
/** Store an entry; the note shows old and new decoded. */
export const set_pte = issued(function* (cpu: Cpu | undefined, ptep: PtePtr, v: pte_t, what?: string): Op<void> {
  yield* storeEntry(cpu, ptep, v, what ?? 'set_pte');
});
/** set_pte_atomic: on x86-64 the same plain store as set_pte (one step). */
export const set_pte_atomic = issued(function* (cpu: Cpu | undefined, ptep: PtePtr, v: pte_t): Op<void> {
  yield* storeEntry(cpu, ptep, v, 'set_pte_atomic');
});
export const set_pmd = issued(function* (cpu: Cpu | undefined, pmdp: PtePtr, v: pmd_t): Op<void> {
  yield* storeEntry(cpu, pmdp, v, 'set_pmd');
});
export const pte_clear = issued(function* (cpu: Cpu | undefined, ptep: PtePtr): Op<void> {
  yield* storeEntry(cpu, ptep, __pte(0), 'pte_clear');
});
export const pmd_clear = issued(function* (cpu: Cpu | undefined, pmdp: PtePtr): Op<void> {
  yield* storeEntry(cpu, pmdp, __pte(0), 'pmd_clear');
});

function* rmwEntry<T>(cpu: Cpu | undefined, label: string, ptep: PtePtr, f: (old: pte_t) => { nu: pte_t; result: T }): Op<T> {
  return (yield lockedBy(cpu, stableStep(rmwLabel(label, ptep), rmwAccesses(ptep), (say) => {
    const old = ptep.get() as pte_t;
    const { nu, result } = f(old);
    if (nu !== old) ptep.set(nu, `${label} ${ptep.name}`);
    say(`${ptep.name}: ${show(ptep, old)} → ${show(ptep, nu)}`);
    return result;
  }))) as T;
}
/** Atomically clear the entry; returns the old value (with the A/D bits it had). */
export const ptep_get_and_clear = issued(function* (cpu: Cpu | undefined, ptep: PtePtr): Op<pte_t> {
  return yield* rmwEntry(cpu, 'ptep_get_and_clear', ptep, (o) => ({ nu: __pte(0), result: o }));
});
/** Exchange the entry; returns the old value. */
export const pte_xchg = issued(function* (cpu: Cpu | undefined, ptep: PtePtr, v: pte_t): Op<pte_t> {
  return yield* rmwEntry(cpu, 'xchg', ptep, (o) => ({ nu: v, result: o }));
});
/** Compare-and-exchange the entry; returns the old value. */
export const pte_cmpxchg = issued(function* (cpu: Cpu | undefined, ptep: PtePtr, old: pte_t, v: pte_t): Op<pte_t> {
  return yield* rmwEntry(cpu, 'cmpxchg', ptep, (o) => ({ nu: o === old ? v : o, result: o }));
});
/** Atomically clear D; true when it was set. */
export const ptep_test_and_clear_dirty = issued(function* (cpu: Cpu | undefined, ptep: PtePtr): Op<boolean> {
  return yield* rmwEntry(cpu, 'ptep_test_and_clear_dirty', ptep, (o) => ({ nu: pte_mkclean(o), result: pte_dirty(o) }));
});
/** Atomically clear A; true when it was set. */
export const ptep_test_and_clear_young = issued(function* (cpu: Cpu | undefined, ptep: PtePtr): Op<boolean> {
  return yield* rmwEntry(cpu, 'ptep_test_and_clear_young', ptep, (o) => ({ nu: pte_mkold(o), result: pte_young(o) }));
});
/** Atomically clear RW. */
export const ptep_set_wrprotect = issued(function* (cpu: Cpu | undefined, ptep: PtePtr): Op<void> {
  yield* rmwEntry(cpu, 'ptep_set_wrprotect', ptep, (o) => ({ nu: pte_wrprotect(o), result: undefined }));
});
/** Atomically OR flag bits into the entry (e.g. merging harvested A|D); returns the old value. */
export const pte_set_flags_atomic = issued(function* (cpu: Cpu | undefined, ptep: PtePtr, bits: number): Op<pte_t> {
  return yield* rmwEntry(cpu, `set flags ${bits.toString(16)} in`, ptep, (o) => ({ nu: pte_set_flags(o, bits), result: o }));
});
/** Atomically clear flag bits (exchange-clear of A|D); returns the old value. */
export const pte_clear_flags_atomic = issued(function* (cpu: Cpu | undefined, ptep: PtePtr, bits: number): Op<pte_t> {
  return yield* rmwEntry(cpu, `clear flags ${bits.toString(16)} in`, ptep, (o) => ({ nu: pte_clear_flags(o, bits), result: o }));
});

/** Point a pmd at pte page `table` (pmd_populate_kernel: a set_pmd); marks the frame as a pte page. */
export const pmd_populate = issued(function* (cpu: Cpu | undefined, pmdp: PtePtr, table: Pfn): Op<void> {
  yield* storeEntry(cpu, pmdp, pfn_pte(table, _PAGE_TABLE), 'pmd_populate', () => pmdp.memory.setRole(table, 'pte'));
});
