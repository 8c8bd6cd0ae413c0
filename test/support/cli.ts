import { execFile, spawn, type ChildProcess } from 'node:child_process';
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
  logs(): string;
}

/** `kmslab host start` in its own process on free loopback ports; resolves once it printed its ready line. */
export async function startCliHost(args: readonly string[] = []): Promise<CliHost> {
  const proc = spawn(
    process.execPath,
    [KMSLAB_BIN, 'host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', '127.0.0.1:0', '--log-format', 'json', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const ready = new Promise<{ port: number; admin: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host did not start within 20 s:\n${out}`)), 20_000);
    const onData = (d: Buffer) => {
      out += d;
      for (const line of out.split('\n')) {
        if (!line.includes('"event":"ready"')) continue;
        clearTimeout(timer);
        const j = JSON.parse(line);
        resolve({ port: j.port, admin: j.admin });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d) => (out += d));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`host exited with ${code} before it was ready:\n${out}`));
    });
  });
  let started;
  try {
    started = await ready;
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  return {
    proc,
    port: started.port,
    adminUrl: started.admin,
    exited,
    logs: () => out,
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
