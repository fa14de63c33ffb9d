// JUnit as CI systems read it, checked against the rules of the common JUnit XSD (Jenkins'
// junit-10 / the Ant schema): a <testsuites> root whose totals add up, <testsuite> elements with
// name/tests/failures/errors/skipped/time, <testcase> with classname/name/time holding at most
// one of <failure>, <error>, <skipped>; a model that throws is an error, and a failure's body
// names the trace and the command that replays it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, example, fixture, tmp } from './helpers.js';

interface El {
  readonly name: string;
  readonly attrs: Record<string, string>;
  readonly children: El[];
  text: string;
}

const unescape = (s: string) => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

/** A strict reader for the XML mmcheck writes (no CDATA, comments or DTD): throws on any mismatch. */
function parseXml(xml: string): El {
  const body = xml.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n/, '');
  const stack: El[] = [{ name: '#doc', attrs: {}, children: [], text: '' }];
  const re = /<(\/?)([\w-]+)((?:\s+[\w-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let pos = 0; // a sticky regex that fails resets lastIndex: keep where the last match ended
  for (let m = re.exec(body); m; m = re.exec(body)) {
    pos = re.lastIndex;
    const [, close, name, attrText, selfClose, text] = m;
    const top = stack[stack.length - 1]!;
    if (text !== undefined) {
      top.text += unescape(text);
      continue;
    }
    if (close) {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText!.matchAll(/([\w-]+)="([^"]*)"/g)) attrs[a[1]!] = unescape(a[2]!);
    const el: El = { name: name!, attrs, children: [], text: '' };
    top.children.push(el);
    if (!selfClose) stack.push(el);
  }
  if (pos !== body.length) throw new Error(`unparsed XML at ${pos}: ${body.slice(pos, pos + 40)}`);
  if (stack.length !== 1) throw new Error(`<${stack[stack.length - 1]!.name}> is never closed`);
  const roots = stack[0]!.children;
  if (roots.length !== 1) throw new Error('not exactly one root element');
  return roots[0]!;
}

const COUNTS = ['tests', 'failures', 'errors', 'skipped'] as const;

/** The JUnit schema's rules for the elements and attributes mmcheck writes. */
function checkJunit(root: El): void {
  expect(root.name).toBe('testsuites');
  const totals = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const suite of root.children) {
    expect(suite.name).toBe('testsuite');
    expect(suite.attrs.name).toBeTruthy();
    expect(suite.attrs.time).toMatch(/^\d+\.\d{3}$/);
    const own = { tests: 0, failures: 0, errors: 0, skipped: 0 };
    for (const c of suite.children) {
      expect(c.name).toBe('testcase');
      expect(Object.keys(c.attrs).sort()).toEqual(['classname', 'name', 'time']);
      expect(c.attrs.time).toMatch(/^\d+\.\d{3}$/);
      expect(c.children.length).toBeLessThanOrEqual(1);
      own.tests++;
      const kind = c.children[0];
      if (kind === undefined) continue;
      expect(['failure', 'error', 'skipped']).toContain(kind.name);
      expect(kind.attrs.message).toBeTruthy();
      if (kind.name === 'failure') own.failures++;
      if (kind.name === 'error') own.errors++;
      if (kind.name === 'skipped') own.skipped++;
    }
    for (const k of COUNTS) {
      expect(Number(suite.attrs[k]), `${suite.attrs.name} ${k}`).toBe(own[k]);
      totals[k] += own[k];
    }
  }
  for (const k of COUNTS) expect(Number(root.attrs[k]), `testsuites ${k}`).toBe(totals[k]);
}

const cases = (root: El) => root.children.flatMap((s) => s.children);

describe('JUnit report', () => {
  it('has a <testsuites> root whose totals add up, one suite per model', async () => {
    const file = path.join(tmp(), 'j.xml');
    await cli('explore', example, '--junit', file, '--no-trace');
    const root = parseXml(readFileSync(file, 'utf8'));
    checkJunit(root);
    expect(root.attrs).toMatchObject({ name: 'mmcheck', tests: '2', failures: '0', errors: '0', skipped: '0' });
    expect(root.children.map((s) => s.attrs.name)).toEqual(['mmcheck.counter']);
  });

  it('reports a model that throws as an error and a deadlock as a failure', async () => {
    const file = path.join(tmp(), 'j.xml');
    const r = await cli('explore', fixture('misbehaving.ts'), '--junit', file, '--no-trace');
    expect(r.code).toBe(1);
    const root = parseXml(readFileSync(file, 'utf8'));
    checkJunit(root);
    const byName = Object.fromEntries(cases(root).map((c) => [c.attrs.name, c.children[0]?.name]));
    expect(byName).toEqual({ 'misbehaving/deadlock': 'failure', 'misbehaving/livelock': 'failure', 'misbehaving/step-throws': 'error' });
  });

  it('counts a search cut short as skipped', async () => {
    const file = path.join(tmp(), 'j.xml');
    await cli('explore', 'ptmigrate', '--variant', 'delimbo', '--max-executions', '3', '--junit', file);
    const root = parseXml(readFileSync(file, 'utf8'));
    checkJunit(root);
    expect(root.attrs.skipped).toBe('1');
    expect(cases(root)[0]!.children[0]!.attrs.message).toMatch(/^bounded: /);
  });

  it('ends a failure with the trace file and the command that replays it', async () => {
    const dir = tmp();
    const file = path.join(dir, 'j.xml');
    await cli('explore', fixture('misbehaving.ts'), '--variant', 'deadlock', '--junit', file, '--out', dir);
    const failure = cases(parseXml(readFileSync(file, 'utf8')))[0]!.children[0]!;
    expect(failure.attrs.message).toBe('expected holds, got violated deadlock');
    const trace = path.join(dir, 'misbehaving-deadlock.json');
    expect(failure.text).toContain(`trace: ${trace}`);
    expect(failure.text).toMatch(new RegExp(`replay: npx mmcheck replay ${trace.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} --model \\S*misbehaving\\.ts$`));
  });
});
