import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const KMSLAB_BIN = fileURLToPath(new URL('../../packages/cli/bin/kmslab.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `kmslab ARGS` as a user would, in its own process. */
export function runCli(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [KMSLAB_BIN, ...args], { timeout: options.timeoutMs ?? 30_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface CliHost extends AsyncDisposable {
  proc: ChildProcess;
  port: number;
  adminUrl: string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Everything the host logged so far. */
  logs(): string;
}

/**
 * `kmslab host start` in its own process on free loopback ports; resolves
 * once it logged its ready line. Logs go to `logFile` when given (benchmarks:
 * the reader costs nothing), else to a pipe this process keeps.
 */
export function startCliHost(args: readonly string[] = [], options: { logFile?: string } = {}): Promise<CliHost> {
  return startCliProcess(['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', '127.0.0.1:0', ...args], options);
}

/**
 * A long-running `kmslab` command (`host start`, `dns start`) in its own
 * process, JSON logs, on loopback port 0 unless `args` say otherwise;
 * resolves with the port from its ready line.
 */
export async function startCliProcess(args: readonly string[], options: { logFile?: string } = {}): Promise<CliHost> {
  const fd = options.logFile ? openSync(options.logFile, 'w') : null;
  const defaults = args.includes('--port') ? [] : ['--listen', '127.0.0.1', '--port', '0'];
  const proc = spawn(process.execPath, [KMSLAB_BIN, ...args, ...defaults, '--log-format', 'json'], { stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'] });
  if (fd !== null) closeSync(fd);
  let piped = '';
  proc.stdout?.on('data', (d) => (piped += d));
  proc.stderr?.on('data', (d) => (piped += d));
  const logs = () => (options.logFile ? readFileSync(options.logFile, 'utf8') : piped);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r((exitCode = code))));
  const deadline = Date.now() + 20_000;
  let ready: { port: number; admin?: string } | undefined;
  while (!ready) {
    const line = logs().split('\n').find((l) => l.includes('"event":"ready"'));
    if (line) ready = JSON.parse(line);
    else if (exitCode !== undefined || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`kmslab ${args.slice(0, 2).join(' ')} ${exitCode !== undefined ? `exited with ${exitCode}` : 'did not start within 20 s'}:\n${logs()}`);
    } else await new Promise((r) => setTimeout(r, 25));
  }
  return {
    proc,
    port: ready.port,
    adminUrl: ready.admin ?? '',
    exited,
    logs,
    async [Symbol.asyncDispose]() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}
