import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';

/** JSON lines for machines, pino-pretty for people (the default on a terminal). */
export function createLogger(level: string, format: LogFormat | undefined): Logger {
  const usePretty = (format ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'pretty';
  if (usePretty) return pino({ level }, pretty({ colorize: Boolean(process.stdout.isTTY), ignore: 'pid,hostname', sync: true }));
  // Buffered: one write per 8 KiB of log lines instead of one per request
  // event (the per-request event is on the host's hot path). Flushed on exit.
  return pino({ level, base: { pid: process.pid } }, pino.destination({ sync: true, minLength: 8 * 1024 }));
}
