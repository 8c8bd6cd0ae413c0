import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startKmslabProcess, type KmslabProcess } from '@kmslab/lab/live';

export const KMSLAB_BIN = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `kmslab ARGS` as a user would, in its own process. */
export function runCli(args: readonly string[], options: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [KMSLAB_BIN, ...args], { timeout: options.timeoutMs ?? 30_000, encoding: 'utf8', cwd: options.cwd, env: options.env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export type CliHost = KmslabProcess;

/**
 * `kmslab host start` in its own process on free loopback ports; resolves
 * once it logged its ready line.
 */
export function startCliHost(args: readonly string[] = [], options: { logFile?: string; cwd?: string } = {}): Promise<CliHost> {
  return startCliProcess(['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', '127.0.0.1:0', ...args], options);
}

/** A long-running `kmslab` command in its own process (see startKmslabProcess). */
export function startCliProcess(args: readonly string[], options: { logFile?: string; cwd?: string } = {}): Promise<CliHost> {
  return startKmslabProcess([process.execPath, KMSLAB_BIN], args, options);
}
