// Shared by the CLI tests: run mmcheck in-process (main) or as the compiled binary.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Io, main } from '../../src/cli/main.js';

export const root = path.resolve(__dirname, '../..');
export const bin = path.join(root, 'bin/mmcheck.js');
/** A stable two-variant model (plain violates no-lost-update, atomic holds). */
export const example = path.join(root, 'test/fixtures/counter.ts');
export const fixture = (f: string) => path.join(root, 'test/fixtures', f);
export const tmp = () => mkdtempSync(path.join(tmpdir(), 'mmcheck-'));

export interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export async function cli(...argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => void (out += `${t}\n`), err: (t) => void (err += `${t}\n`), isTTY: false };
  const code = await main(argv, io);
  return { code, out, err };
}

export function mmcheck(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Run {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: opts.cwd ?? root, env: { ...process.env, ...opts.env }, timeout: opts.timeout ?? 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Starts mmcheck, sends `signals` (each after `delays` ms), and waits for it to exit. */
export async function interrupt(args: string[], signals: readonly NodeJS.Signals[], delayMs: number, betweenMs = 300): Promise<Run & { signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  await new Promise((r) => setTimeout(r, delayMs));
  for (const [i, s] of signals.entries()) {
    if (i > 0) await new Promise((r) => setTimeout(r, betweenMs));
    child.kill(s);
  }
  const { code, signal } = await exited;
  return { code: code ?? -1, signal, out, err };
}

/** Every leftover temp file under `dir` (what an interrupted or failed write would leave). */
export function tempFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.tmp') || f.includes('.mmcheck-probe-'));
}
