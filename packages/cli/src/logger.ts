import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';

/** JSON lines for machines, pino-pretty for people (the default on a terminal). */
export function createLogger(level: string, format: LogFormat | undefined): Logger {
  const usePretty = (format ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'pretty';
  if (usePretty) return pino({ level }, pretty({ colorize: Boolean(process.stdout.isTTY), ignore: 'pid,hostname', sync: true }));
  return pino({ level, base: { pid: process.pid } }, pino.destination({ sync: false }));
}
