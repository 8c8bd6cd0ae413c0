import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ours = (dir: string) => new Set(readdirSync(dir).filter((f) => f.startsWith('kmslab-')));

/**
 * vitest globalSetup: every temporary folder of the run (the tests', and the
 * kmslab processes and tools they start, through TMPDIR) goes under one
 * folder, removed at the end, so a run leaves no /tmp/kmslab-* behind — a
 * failed test's included. A tiny disk a failed test left mounted is
 * unmounted first. Something made in the real /tmp anyway (a path written
 * out by hand) fails the run, named.
 */
export default function setup(): () => void {
  const base = tmpdir();
  const before = ours(base);
  const run = mkdtempSync(join(base, 'kmslab-run-'));
  process.env.TMPDIR = run;
  return () => {
    process.env.TMPDIR = base;
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(`${run}/`));
    for (const m of mounts.reverse()) execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    rmSync(run, { recursive: true, force: true });
    const left = [...ours(base)].filter((f) => !before.has(f));
    if (left.length) throw new Error(`the run left ${left.length} folders in ${base} outside its own (${left.slice(0, 5).join(', ')}…): make them under os.tmpdir()`);
  };
}
