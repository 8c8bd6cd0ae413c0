import type { ChildProcess } from 'node:child_process';
import { waitFor } from '@kmslab/core';

/** Whether any process of the group led by `pid` still exists (signal 0 probes without sending). */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM to a detached command's whole process group, then waits until every process in it is gone — not only
 * the shell it was started with: the shell dies on SIGTERM at once while the kmslab process it ran is still saving
 * its state, and a folder removed in between is still being written (ENOTEMPTY). Past `timeoutMs`, SIGKILL.
 */
export async function stopGroup(p: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const pid = p.pid;
  if (pid === undefined || !groupAlive(pid)) return;
  process.kill(-pid, 'SIGTERM');
  await waitFor(() => !groupAlive(pid), { timeoutMs, everyMs: 50, timedOut: () => new Error('still running') }).catch(() => {
    if (groupAlive(pid)) process.kill(-pid, 'SIGKILL');
  });
}

/** SIGTERM to one child (a server a test started), SIGKILL past `graceMs`; resolves once it has exited. */
export async function stopChild(p: ChildProcess, graceMs = 5000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}
