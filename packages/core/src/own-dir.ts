import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The file in every folder kmslab makes: `kmslab reset` removes only folders that hold it. */
export const OWN_DIR_MARKER = '.kmslab-folder';

const MARKER_TEXT = 'Made by kmslab: `kmslab reset` may remove this folder and what kmslab keeps in it.\n';

/**
 * Makes `dir` and any missing folder above it, leaving the marker in each
 * one it made (not in one that was there: a user's own folder given as
 * `--data-dir` stays theirs). Throws the system error.
 */
export function makeOwnDir(dir: string): void {
  const first = mkdirSync(dir, { recursive: true });
  if (first === undefined) return;
  const top = resolve(first);
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      writeFileSync(join(d, OWN_DIR_MARKER), MARKER_TEXT, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (d === top || d === dirname(d)) break;
  }
}
