// Units of the simulated machine. Branded numbers keep a page frame number from being passed
// where a virtual address is expected; the constructors are the only way to make one.

/** Page frame number: index of a physical frame. */
export type Pfn = number & { readonly __brand: 'Pfn' };
/** A virtual address (kernel or user; the model has one flat space per page-table root). */
export type VirtAddr = number & { readonly __brand: 'VirtAddr' };
/** A physical address of one word: frame * PAGE_SIZE + word * WORD_SIZE. */
export type PhysAddr = number & { readonly __brand: 'PhysAddr' };
/** Index of a simulated CPU, 0-based. */
export type CpuId = number & { readonly __brand: 'CpuId' };

export const PAGE_SHIFT = 12;
/** A small page: 4 KiB. */
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Memory is an array of words; a word is 8 bytes (a pte is one word). */
export const WORD_SIZE = 8;

export const pfn = (n: number): Pfn => {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`bad pfn ${n}`);
  return n as Pfn;
};
export const va = (n: number): VirtAddr => {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`bad virtual address ${n}`);
  return n as VirtAddr;
};
export const cpuId = (n: number): CpuId => {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`bad cpu id ${n}`);
  return n as CpuId;
};
/** Physical address of word `index` in frame `f`. */
export const physAddr = (f: Pfn, index: number): PhysAddr => {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`bad word index ${index}`);
  return (f * PAGE_SIZE + index * WORD_SIZE) as PhysAddr;
};
export const paPfn = (pa: PhysAddr): Pfn => Math.floor(pa / PAGE_SIZE) as Pfn;
export const paIndex = (pa: PhysAddr): number => (pa % PAGE_SIZE) / WORD_SIZE;

export const pageAlign = (v: VirtAddr): VirtAddr => (v - (v % PAGE_SIZE)) as VirtAddr;
/** "0x1000". Labels show addresses at every step: small ones are made once. */
export const hex = (n: number): string => {
  if (Number.isInteger(n) && n >= 0 && n < HEX_CACHED) return (hexes[n] ??= `0x${n.toString(16)}`);
  return `0x${n.toString(16)}`;
};
const HEX_CACHED = 1 << 20;
const hexes: string[] = [];

/**
 * Shape of the (tiny) address space. A "large page" (x86's 2 MiB PS mapping) covers
 * `ptesPerTable` small pages, so with the default of 4 entries per table a large page is 16 KiB
 * and the whole space (4 pmd entries) is 64 KiB. Labels still say "2M" / "4K".
 */
export class Geometry {
  readonly largePageSize: number;
  readonly spaceSize: number;

  constructor(readonly ptesPerTable: number) {
    if (!Number.isInteger(ptesPerTable) || ptesPerTable < 1 || ptesPerTable > 512) {
      throw new RangeError(`ptesPerTable must be 1..512, got ${ptesPerTable}`);
    }
    this.largePageSize = ptesPerTable * PAGE_SIZE;
    this.spaceSize = ptesPerTable * this.largePageSize;
  }

  pmdIndex(v: VirtAddr): number {
    this.check(v);
    return Math.floor(v / this.largePageSize);
  }
  pteIndex(v: VirtAddr): number {
    this.check(v);
    return Math.floor((v % this.largePageSize) / PAGE_SIZE);
  }
  /** Word index inside the data page. */
  wordIndex(v: VirtAddr): number {
    const off = v % PAGE_SIZE;
    if (off % WORD_SIZE !== 0) throw new RangeError(`unaligned access at ${hex(v)}`);
    const w = off / WORD_SIZE;
    if (w >= this.ptesPerTable) {
      throw new RangeError(`address ${hex(v)} is past the ${this.ptesPerTable} words of a frame`);
    }
    return w;
  }
  largeAlign(v: VirtAddr): VirtAddr {
    return (v - (v % this.largePageSize)) as VirtAddr;
  }
  /** Virtual address of pmd slot `pmd`, pte slot `pte`. */
  addr(pmd: number, pte = 0, word = 0): VirtAddr {
    return va(pmd * this.largePageSize + pte * PAGE_SIZE + word * WORD_SIZE);
  }
  /** Page-aligned addresses of [start, end). */
  pages(start: VirtAddr, end: VirtAddr): VirtAddr[] {
    const out: VirtAddr[] = [];
    for (let a = pageAlign(start) as number; a < end; a += PAGE_SIZE) out.push(va(a));
    return out;
  }
  private check(v: VirtAddr): void {
    if (v >= this.spaceSize) {
      throw new RangeError(`address ${hex(v)} outside the ${hex(this.spaceSize)}-byte address space`);
    }
  }
}
