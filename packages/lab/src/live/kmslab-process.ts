import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { waitFor } from '@kmslab/core';

/** A kmslab command in its own process, with its ready line, logs and a stop. */
export interface KmslabProcess extends AsyncDisposable {
  /** The process itself (its pid, its signals). */
  proc: ChildProcess;
  /** The port from its ready line (the KMS port of a host, the DNS port of a DNS server). */
  port: number;
  /** Its admin listener's URL from the ready line; empty when it has none. */
  adminUrl: string;
  /** The whole ready line (`{"event":"ready",…}`). */
  ready: Record<string, unknown>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Everything the process logged so far. */
  logs(): string;
  /** SIGTERM (SIGKILL after 15 s) and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * A long-running `kmslab` command (`host start`, `dns start`) in its own
 * process, JSON logs, on loopback port 0 unless `args` say otherwise;
 * resolves with the port from its ready line. `command` starts kmslab (e.g.
 * `[process.execPath, '…/dist/bin.js']`). Logs go to `logFile` when given
 * (benchmarks: the reader costs nothing), else to a pipe this process keeps.
 */
export async function startKmslabProcess(command: readonly string[], args: readonly string[], options: { logFile?: string; cwd?: string } = {}): Promise<KmslabProcess> {
  const fd = options.logFile ? openSync(options.logFile, 'w') : null;
  // Loopback and a free port unless the caller chose where to listen.
  const defaults = args.includes('--port') || args.includes('--listen') ? [] : ['--listen', '127.0.0.1', '--port', '0'];
  const proc = spawn(command[0]!, [...command.slice(1), ...args, ...defaults, '--log-format', 'json'], { stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'], cwd: options.cwd });
  if (fd !== null) closeSync(fd);
  let piped = '';
  proc.stdout?.on('data', (d) => (piped += d));
  proc.stderr?.on('data', (d) => (piped += d));
  const logs = () => (options.logFile ? readFileSync(options.logFile, 'utf8') : piped);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r((exitCode = code))));
  const failed = () => {
    proc.kill('SIGKILL');
    return new Error(`kmslab ${args.slice(0, 2).join(' ')} ${exitCode !== undefined ? `exited with ${exitCode}` : 'did not start within 20 s'}:\n${logs()}`);
  };
  const ready = await waitFor(
    (): { port: number; admin?: string } | undefined => {
      const line = logs().split('\n').find((l) => l.includes('"event":"ready"'));
      if (line) return JSON.parse(line);
      if (exitCode !== undefined) throw failed();
      return undefined;
    },
    { timeoutMs: 20_000, everyMs: 25, timedOut: failed },
  );
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    }
  };
  return { proc, port: ready.port, adminUrl: ready.admin ?? '', ready: ready as unknown as Record<string, unknown>, exited, logs, stop, [Symbol.asyncDispose]: stop };
}
