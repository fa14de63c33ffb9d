// The CLI's structured logs (pino on stderr): JSON lines, or readable lines through pino-pretty
// when stderr is a terminal. The CLI logs at `info` only, and the default level is `warn`, so
// pino is loaded only when a level lets those lines through: loading pino and pino-pretty takes
// 70 ms on their own, at every run that would never print a log line.
import type { Io } from './report.js';

/** What the CLI logs with (a pino Logger is one). */
export interface Log {
  info(fields: object, message: string): void;
}

/** The levels (of those args.ts accepts) that print `info` lines. */
const PRINTS_INFO = ['trace', 'debug', 'info'];

/** Logs nothing (a level above `info`). */
const QUIET: Log = { info: () => {} };

/** The logger for `level` (one args.ts accepted). */
export async function logger(level: string, io: Io): Promise<Log> {
  if (!PRINTS_INFO.includes(level)) return QUIET;
  const { default: pino } = await import('pino');
  const options = { level, base: { name: 'mmcheck' } };
  const log = io.isTTY ? pino(options, (await import('pino-pretty')).default({ destination: 2, sync: true, colorize: !process.env.NO_COLOR })) : pino(options, pino.destination({ fd: 2, sync: true }));
  return { info: (fields, message) => log.info(fields, message) };
}
