// The litmus front end: herd7's x86 syntaxes, conditions, locked instructions, and errors that
// name the file and line.
import { describe, expect, it } from 'vitest';
import { LitmusError } from '../../src/litmus/ast.js';
import { normaliseReg, parseLitmus } from '../../src/litmus/parse.js';
import { runLitmus } from '../../src/litmus/run.js';

const sb = (p0: string[], p1: string[], cond = 'exists (0:EAX=0 /\\ 1:EAX=0)') => {
  const rows = Math.max(p0.length, p1.length);
  const body = Array.from({ length: rows }, (_, i) => ` ${(p0[i] ?? '').padEnd(16)} | ${(p1[i] ?? '').padEnd(16)} ;`).join('\n');
  return `X86 test\n"a comment"\n{ x=0; y=0; }\n P0 | P1 ;\n${body}\n${cond}\n`;
};
const verdict = (text: string, memoryModel: 'sc' | 'tso' = 'tso') => runLitmus(parseLitmus(text, 't.litmus'), { memoryModel }).verdict;
const failure = (text: string): string => {
  try {
    parseLitmus(text, 'bad.litmus');
  } catch (e) {
    expect(e).toBeInstanceOf(LitmusError);
    return (e as Error).message;
  }
  throw new Error('no error');
};

describe('registers', () => {
  it('eax, ax, al, rax and %eax name one register; r8d is r8', () => {
    expect(['eax', 'EAX', 'ax', 'al', 'rax', '%eax'].map(normaliseReg)).toEqual(Array(6).fill('rax'));
    expect(normaliseReg('r8d')).toBe('r8');
    expect(normaliseReg('esi')).toBe('rsi');
    expect(normaliseReg('foo')).toBeUndefined();
  });
});

describe('instructions', () => {
  it('Intel MOV stores and loads: store buffering is allowed', () => {
    expect(verdict(sb(['MOV [x],$1', 'MOV EAX,[y]'], ['MOV [y],$1', 'MOV EAX,[x]']))).toBe('Allow');
  });
  it('xchg is a locked store: two of them forbid store buffering', () => {
    expect(verdict(sb(['MOV EBX,$1', 'XCHG [x],EBX', 'MOV EAX,[y]'], ['MOV EBX,$1', 'XCHG [y],EBX', 'MOV EAX,[x]']))).toBe('Forbid');
  });
  it('a lock-prefixed add after the store forbids it too', () => {
    expect(verdict(sb(['MOV [x],$1', 'LOCK ADD [z],$0', 'MOV EAX,[y]'], ['MOV [y],$1', 'LOCK ADD [z],$0', 'MOV EAX,[x]']))).toBe('Forbid');
  });
  it('lfence and sfence do not drain the store buffer', () => {
    expect(verdict(sb(['MOV [x],$1', 'SFENCE', 'LFENCE', 'MOV EAX,[y]'], ['MOV [y],$1', 'SFENCE', 'LFENCE', 'MOV EAX,[x]']))).toBe('Allow');
  });
  it('two locked increments never lose one; unlocked ones can', () => {
    const inc = (pre: string) => sb([`${pre}INC [x]`], [`${pre}INC [x]`], 'exists (x=1)');
    expect(verdict(inc('LOCK '))).toBe('Forbid');
    expect(verdict(inc(''))).toBe('Allow');
  });
  it('lock xadd and lock cmpxchg return the old value', () => {
    expect(verdict(sb(['MOV EAX,$5', 'LOCK XADD [x],EAX'], [], 'forall (0:EAX=0 /\\ x=5)'))).toBe('Allow');
    const cas = sb(['MOV EAX,$0', 'MOV EBX,$1', 'LOCK CMPXCHG [x],EBX'], ['MOV EAX,$0', 'MOV EBX,$2', 'LOCK CMPXCHG [x],EBX'], 'exists (0:EAX=0 /\\ 1:EAX=0)');
    expect(verdict(cas)).toBe('Forbid');
  });
  it('AT&T syntax reads operands source first', () => {
    const t = parseLitmus('X86_64 t\n{ }\n P0 ;\n movl $1,(x) ;\n movl (x),%eax ;\nexists (0:rax=1)\n', 't');
    expect(t.threads[0]).toEqual([
      { op: 'mov', dst: { k: 'mem', loc: 'x' }, src: { k: 'imm', v: 1 }, line: 4 },
      { op: 'mov', dst: { k: 'reg', r: 'rax' }, src: { k: 'mem', loc: 'x' }, line: 5 },
    ]);
  });
});

describe('init and conditions', () => {
  it('init values of memory and registers are used', () => {
    const t = 'X86 t\n{ x=3; 0:EBX=7; }\n P0 ;\n MOV [y],EBX ;\n MOV EAX,[x] ;\nexists (0:EAX=3 /\\ y=7 /\\ [x]=3)\n';
    expect(verdict(t)).toBe('Allow');
  });
  it('registers start from their init values in every execution, not from the last one\'s', () => {
    // Without a mov first, xchg stores what EBX holds at the start: 1 in every execution.
    const t = 'X86 t\n{ 0:EBX=1; 1:EBX=1; }\n P0 | P1 ;\n XCHG [x],EBX | XCHG [y],EBX ;\n MOV EAX,[y] | MOV EAX,[x] ;\nforall (x=1 /\\ y=1 /\\ 0:EBX=0 /\\ 1:EBX=0)\n';
    for (const strategy of ['dfs', 'dpor'] as const) {
      const r = runLitmus(parseLitmus(t, 't'), { memoryModel: 'tso', strategy });
      expect([r.validated, r.observation]).toEqual([true, 'Always']);
      expect(r.executions).toBeGreaterThan(1);
    }
  });
  it('~exists and forall are judged as herd7 does', () => {
    const t = (cond: string) => runLitmus(parseLitmus(sb(['MOV [x],$1', 'MOV EAX,[y]'], ['MOV [y],$1', 'MOV EAX,[x]'], cond), 't'), { memoryModel: 'sc' });
    const never = t('~exists (0:EAX=0 /\\ 1:EAX=0)');
    expect([never.verdict, never.validated, never.observation]).toEqual(['Forbid', true, 'Never']);
    const always = t('forall (x=1 /\\ y=1)');
    expect([always.validated, always.observation]).toEqual([true, 'Always']);
    const some = t('forall (0:EAX=1 \\/ 1:EAX=1 => x=1)');
    expect(some.validated).toBe(true);
    const not = t('exists ~(0:EAX=1)');
    expect([not.verdict, not.observation]).toEqual(['Allow', 'Sometimes']);
  });
  it('a condition may span lines and comments are ignored', () => {
    expect(verdict('X86 t (* a (* comment *)\n{\n}\n P0 ;\n MOV [x],$1 ;\nexists\n(x=1)\n')).toBe('Allow');
  });
});

describe('errors name the file and line', () => {
  it.each([
    ['a title line of another architecture', 'AArch64 t\n{ }\n P0 ;\n MOV X0,#1 ;\nexists (x=1)\n', 'bad.litmus:1: not an x86 litmus test'],
    ['an unknown instruction', 'X86 t\n{ }\n P0 ;\n FOO [x] ;\nexists (x=1)\n', 'bad.litmus:4: unsupported instruction "FOO [x]"'],
    ['a row without its ";"', 'X86 t\n{ }\n P0 ;\n MOV [x],$1\nexists (x=1)\n', 'bad.litmus:4: a thread row must end with ";"'],
    ['more columns than threads', 'X86 t\n{ }\n P0 | P1 ;\n MOV [x],$1 | | ;\nexists (x=1)\n', 'bad.litmus:4: 3 columns, but the header names 2 threads'],
    ['a condition naming a thread the test lacks', 'X86 t\n{ }\n P0 ;\n MOV [x],$1 ;\nexists (3:EAX=1)\n', 'bad.litmus:5: the condition names thread 3'],
    ['a condition cut short', 'X86 t\n{ }\n P0 ;\n MOV [x],$1 ;\nexists (x=1 /\\)\n', 'bad.litmus:5: '],
    ['a test without a condition', 'X86 t\n{ }\n P0 ;\n MOV [x],$1 ;\n', 'bad.litmus:4: no final condition'],
    ['an init value that is an address', 'X86 t\n{ x=y; }\n P0 ;\n MOV [x],$1 ;\nexists (x=1)\n', 'bad.litmus:2: init "x=y": only integer values'],
    ['a memory-to-memory mov', 'X86 t\n{ }\n P0 ;\n MOV [x],[y] ;\nexists (x=1)\n', 'bad.litmus:4: x86 has no memory-to-memory mov'],
    ['xadd without lock', 'X86 t\n{ }\n P0 ;\n XADD [x],EAX ;\nexists (x=1)\n', 'bad.litmus:4: xadd without lock'],
  ])('%s', (_what, text, start) => {
    expect(failure(text)).toMatch(new RegExp(`^${start.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });
});
