import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A tmpfs of `size` (e.g. "64k"; read-only if asked: even root cannot write it) mounted on a fresh folder, unmounted and
 * removed on dispose: a disk that fills up for real. Needs root (CI runs as
 * root); anywhere else the test fails and says so.
 */
export function tinyDisk(size = '64k', options: { readOnly?: boolean } = {}): { path: string } & AsyncDisposable {
  const path = mkdtempSync(join(tmpdir(), 'kmslab-tiny-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${options.readOnly ? ',ro' : ''}`, 'tmpfs', path], { stdio: 'pipe' });
  } catch (err) {
    rmSync(path, { recursive: true, force: true });
    throw new Error(
      `Full-disk tests mount a ${size} tmpfs and need root (as CI runs): run the suite as root, or with sudo. mount said: ${(err as { stderr?: Buffer }).stderr?.toString().trim() ?? (err as Error).message}`,
    );
  }
  return {
    path,
    async [Symbol.asyncDispose]() {
      execFileSync('umount', ['-l', path], { stdio: 'pipe' });
      rmSync(path, { recursive: true, force: true });
    },
  };
}
