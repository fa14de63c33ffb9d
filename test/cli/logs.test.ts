// The CLI's structured logs: pino JSON lines on stderr at --log-level info, nothing at the
// default level (warn). (That pino is not loaded then, src/cli/log.ts, is a matter of start-up
// time, measured, not tested here.)
import { describe, expect, it } from 'vitest';
import { example, mmcheck, tmp } from './helpers.js';

describe('logs', () => {
  it('writes one JSON line per job start and end at --log-level info', () => {
    const r = mmcheck(['explore', example, '--variant', 'atomic', '--log-level', 'info', '--out', tmp()]);
    expect(r.code).toBe(0);
    const lines = r.err.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; verdict?: string });
    expect(lines.map((l) => l.msg)).toEqual(['explore start', 'explore end']);
    expect(lines.every((l) => l.level === 30)).toBe(true);
    expect(lines[1]!.verdict).toBe('holds');
  });

  it('writes no log line at the default level', () => {
    const r = mmcheck(['explore', example, '--variant', 'atomic', '--out', tmp()]);
    expect(r.code).toBe(0);
    expect(r.err.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
  });

});
