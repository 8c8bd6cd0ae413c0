import { closeSync, openSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@kmslab/core';
import { requireFreePorts } from './free-ports.js';

/**
 * The fixed ports the documentation's commands use (1688, 5353, 9688…) are
 * shared by the test files that run them as written (README, docs/): one of
 * them at a time holds them, the others wait (a lock file in the run's
 * temporary folder), and the ports must be free once held. `stopUsers`
 * runs when the hold ends, before the lock is given back: whatever the test
 * started on those ports is gone by then, even when the test failed midway
 * (a vitest afterEach would run only after another file took the ports).
 */
export async function holdFixedPorts(ports: readonly number[], why: string, stopUsers: () => Promise<void> = async () => {}): Promise<AsyncDisposable> {
  const lock = join(tmpdir(), 'kmslab-fixed-ports.lock');
  await waitFor(
    () => {
      try {
        closeSync(openSync(lock, 'wx'));
        return true;
      } catch {
        return false;
      }
    },
    { timeoutMs: 600_000, everyMs: 200, timedOut: () => new Error(`${lock} was held for 10 minutes: another test file did not give the fixed ports back`) },
  );
  const release = async () => unlinkSync(lock);
  try {
    await requireFreePorts(ports, why);
  } catch (err) {
    await release();
    throw err;
  }
  return {
    [Symbol.asyncDispose]: async () => {
      try {
        await stopUsers();
      } finally {
        await release();
      }
    },
  };
}
