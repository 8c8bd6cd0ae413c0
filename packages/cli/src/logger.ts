import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

/** pino-pretty, loaded only for a person's terminal: JSON logs (scripts, containers, `kmslab up` under a test) do not pay its ~15 ms. */
const pretty = (): typeof import('pino-pretty') => createRequire(import.meta.url)('pino-pretty');

export type LogFormat = 'json' | 'pretty';

/** JSON lines for machines, pino-pretty for people (the default on a terminal). */
export function createLogger(level: string, format: LogFormat | undefined): Logger {
  const usePretty = (format ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'pretty';
  if (usePretty) return pino({ level }, pretty()({ colorize: Boolean(process.stdout.isTTY), ignore: 'pid,hostname', sync: true }));
  // Buffered: one write per 8 KiB of log lines instead of one per request
  // event (the per-request event is on the host's hot path). Flushed on exit.
  return pino({ level, base: { pid: process.pid } }, pino.destination({ sync: true, minLength: 8 * 1024 }));
}

/** The ready line scripts and tests wait for: logged whatever `--log-level` says (it carries the ports that port 0 picked). */
export function logReady(logger: Logger, fields: Record<string, unknown>, human: string): void {
  const always = logger.child({}, { level: 'info' });
  if (process.stdout.isTTY && logger.level !== 'silent') always.info(`ready: ${human}`);
  else always.info({ event: 'ready', ...fields }, 'ready');
  logger.flush();
}

/**
 * Keeps a long-running command up until SIGTERM or SIGINT, then runs `close`
 * (drain, stop) and flushes the logs. Logs are flushed every second
 * meanwhile, since JSON logs are buffered. A signal while stopping changes
 * nothing: Ctrl-C under `pnpm start` reaches the process from the terminal
 * and again from pnpm, and the second must not kill it halfway (it would end
 * by a signal, and pnpm would call a clean stop a failure).
 */
export async function serveUntilSignal(logger: Logger, close: () => Promise<void>, verb = 'stopping'): Promise<void> {
  const flusher = setInterval(() => logger.flush(), 1000).unref();
  let stopping = false;
  await new Promise<void>((resolve) => {
    const onSignal = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ event: 'signal', signal }, `${signal}: ${verb}`);
      close().then(resolve, resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  clearInterval(flusher);
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
}
