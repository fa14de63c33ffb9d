// The machine state after a step, as HTML a kernel developer reads: per CPU its TLB entries as
// a table (va, pfn, rights, D, size, cache, the source entry each came from — marked stale when
// that entry no longer says the same), page tables and data frames as grids, struct page counts
// as a table, and everything else as key/value tables. Every value the step changed is marked
// class="changed". Rendered here, typed, rather than in the page's script: the page only swaps
// these fragments, and every model-given string is escaped once, in one place.
import { flatten } from './diff.js';

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

type Obj = Readonly<Record<string, unknown>>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const strings = (x: unknown): string[] => (Array.isArray(x) ? x.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))) : []);
const show = (x: unknown): string => (typeof x === 'string' ? x : JSON.stringify(x) ?? '');

/** Which flattened paths (diff.ts) differ between two snapshots; a prefix covers its children. */
class Changes {
  private readonly paths: readonly string[];
  constructor(before: unknown, after: unknown, enabled: boolean) {
    if (!enabled) {
      this.paths = [];
      return;
    }
    const a = flatten(before);
    const b = flatten(after);
    this.paths = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
  }
  has(path: string): boolean {
    return this.paths.some((p) => p === path || p.startsWith(`${path}.`));
  }
  cls(path: string, base = ''): string {
    const c = [base, this.has(path) ? 'changed' : ''].filter(Boolean).join(' ');
    return c ? ` class="${c}"` : '';
  }
}

interface TlbRow {
  readonly size: string;
  readonly va: string;
  readonly pfn: string;
  readonly rights: string;
  readonly dirty: boolean;
  readonly cache: string;
  readonly source: string;
}

/** "4K 0x0→D0 RW D from P0[0]" (machine.ts snapshot), or undefined for another format. */
function parseTlb(s: string): TlbRow | undefined {
  const m = /^(4K|2M) (\S+)→(\S+) (RW|RO)( D)?(?: (WC|UC|WT|UC-))? from (.+)$/.exec(s);
  if (!m) return undefined;
  return { size: m[1]!, va: m[2]!, pfn: m[3]!, rights: m[4]!, dirty: m[5] !== undefined, cache: m[6] ?? 'WB', source: m[7]! };
}

/** The current text of a page-table entry named like "P0[2]", from the snapshot's tables. */
function sourceEntry(tables: Obj, source: string): string | undefined {
  const m = /^(.+)\[(\d+)\]$/.exec(source);
  if (!m) return undefined;
  const key = Object.keys(tables).find((k) => k === m[1] || k.startsWith(`${m[1]} (`));
  return key === undefined ? undefined : strings(tables[key])[Number(m[2])];
}

/** Whether the entry a TLB entry was filled from now maps something else (or other rights). */
export function isStale(e: TlbRow, entry: string | undefined): boolean {
  if (entry === undefined) return false; // not a table the snapshot shows: cannot tell
  const [frame, rights, ...flags] = entry.split(' ');
  if (entry === 'none' || frame !== e.pfn || rights !== e.rights) return true;
  const cache = flags.find((f) => ['WC', 'UC', 'WT', 'UC-'].includes(f)) ?? 'WB';
  return (e.size === '2M') !== flags.includes('PS') || cache !== e.cache;
}

function tlbTable(tlb: readonly string[], tables: Obj, path: string, ch: Changes): string {
  if (tlb.length === 0) return '<p class="empty">TLB empty</p>';
  const rows = tlb.map((s, i) => {
    const e = parseTlb(s);
    const p = `${path}.${i}`;
    if (!e) return `<tr${ch.cls(p)}><td colspan="8">${esc(s)}</td></tr>`;
    const src = sourceEntry(tables, e.source);
    const stale = isStale(e, src);
    const title = src === undefined ? '' : ` title="${esc(`${e.source} now: ${src}`)}"`;
    return `<tr${ch.cls(p, stale ? 'stale' : '')}><td>${esc(e.va)}</td><td>${esc(e.pfn)}</td><td>${e.rights}</td><td>${e.dirty ? 'D' : ''}</td><td>${e.size}</td><td>${esc(e.cache)}</td><td${title}>${esc(e.source)}</td><td>${stale ? 'STALE' : ''}</td></tr>`;
  });
  return `<table class="grid tlb"><thead><tr><th>va</th><th>pfn</th><th>rights</th><th>D</th><th>size</th><th>cache</th><th>source entry</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function cpuCard(c: Obj, i: number, tables: Obj, ch: Changes): string {
  const p = `cpus.${i}`;
  const facts = [
    `<span${ch.cls(`${p}.mm`)}>mm ${esc(show(c.mm))}</span>`,
    `<span${ch.cls(`${p}.irq`)}>irq ${c.irq === false ? 'off' : 'on'}</span>`,
    c.inInsn === true ? `<span${ch.cls(`${p}.inInsn`)}>in a load/store</span>` : '',
    strings(c.ipiPending).length ? `<span${ch.cls(`${p}.ipiPending`)}>IPI pending: ${esc(strings(c.ipiPending).join('; '))}</span>` : '',
    strings(c.awaitingAcks).length ? `<span${ch.cls(`${p}.awaitingAcks`)}>awaiting acks from cpu ${esc(strings(c.awaitingAcks).join(', '))}</span>` : '',
    strings(c.psc).length ? `<span${ch.cls(`${p}.psc`)}>paging-structure cache: ${esc(strings(c.psc).join('; '))}</span>` : '',
  ].filter(Boolean);
  return `<section class="cpu"><h3>cpu${esc(show(c.cpu ?? i))}</h3><p class="facts">${facts.join(' · ')}</p>${tlbTable(strings(c.tlb), tables, `${p}.tlb`, ch)}</section>`;
}

/** Named rows of words (page tables, data frames): one grid, one row per table or frame. */
function wordGrid(title: string, rows: Obj, root: string, ch: Changes): string {
  const names = Object.keys(rows);
  if (names.length === 0) return '';
  const width = Math.max(...names.map((n) => (Array.isArray(rows[n]) ? (rows[n] as unknown[]).length : 0)));
  const head = Array.from({ length: width }, (_, i) => `<th>[${i}]</th>`).join('');
  const body = names
    .map((n) => {
      const words = Array.isArray(rows[n]) ? (rows[n] as unknown[]) : [];
      const cells = Array.from({ length: width }, (_, i) => (i < words.length ? `<td${ch.cls(`${root}.${n}.${i}`, show(words[i]) === 'none' ? 'none' : '')}>${esc(show(words[i]))}</td>` : '<td></td>'));
      return `<tr><th>${esc(n)}</th>${cells.join('')}</tr>`;
    })
    .join('');
  return `<h2>${esc(title)}</h2><table class="grid words"><thead><tr><th></th>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function pageTable(pages: Obj, ch: Changes): string {
  const names = Object.keys(pages);
  if (names.length === 0) return '';
  const rows = names.map((n) => {
    const pg = isObj(pages[n]) ? (pages[n] as Obj) : {};
    const cell = (k: string, v: string) => `<td${ch.cls(`pages.${n}.${k}`)}>${esc(v)}</td>`;
    return `<tr><th>${esc(n)}</th>${cell('count', show(pg.count))}${cell('mapcount', show(pg.mapcount))}${cell('flags', strings(pg.flags).join(' '))}${cell('first_page', pg.first_page === undefined ? '' : show(pg.first_page))}</tr>`;
  });
  return `<h2>struct page</h2><table class="grid"><thead><tr><th></th><th>_count</th><th>_mapcount</th><th>flags</th><th>first_page</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** Anything else: objects as key/value tables, lists inline, each item marked when changed. */
function generic(x: unknown, path: string, ch: Changes): string {
  if (Array.isArray(x)) {
    if (x.length === 0) return '<span class="empty">none</span>';
    return x.map((v, i) => `<span${ch.cls(`${path}${path ? '.' : ''}${i}`, 'item')}>${isObj(v) || Array.isArray(v) ? generic(v, `${path}.${i}`, ch) : esc(show(v))}</span>`).join(' ');
  }
  if (isObj(x)) {
    const keys = Object.keys(x);
    if (keys.length === 0) return '<span class="empty">none</span>';
    const rows = keys.map((k) => {
      const p = path ? `${path}.${k}` : k;
      return `<tr><th>${esc(k)}</th><td${ch.cls(p)}>${generic(x[k], p, ch)}</td></tr>`;
    });
    return `<table class="kv">${rows.join('')}</table>`;
  }
  return esc(show(x));
}

const MACHINE_KEYS = new Set(['cpus', 'tables', 'data', 'pages']);

/** The state after a step as HTML; `before` is the state before it (undefined: the initial state). */
export function stateHtml(state: unknown, before: unknown, step: number): string {
  if (state === undefined || state === null) return '<p class="empty">(the model gives no state snapshot)</p>';
  const ch = new Changes(before, state, step > 0 && before !== undefined);
  if (!isObj(state) || !Array.isArray(state.cpus) || !isObj(state.tables)) return generic(state, '', ch);
  const tables = state.tables;
  const cpus = (state.cpus as unknown[]).map((c, i) => (isObj(c) ? cpuCard(c, i, tables, ch) : '')).join('');
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) if (!MACHINE_KEYS.has(k)) rest[k] = v;
  return [
    `<div class="cpus">${cpus}</div>`,
    wordGrid('page tables', tables, 'tables', ch),
    isObj(state.data) ? wordGrid('data frames', state.data, 'data', ch) : '',
    isObj(state.pages) ? pageTable(state.pages, ch) : '',
    `<h2>other state</h2>${generic(rest, '', ch)}`,
  ].join('\n');
}
