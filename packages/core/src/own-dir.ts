import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The file in every folder kmslab makes: `kmslab reset` removes only folders that hold it. */
export const OWN_DIR_MARKER = '.kmslab-folder';

const MARKER_TEXT = 'Made by kmslab: `kmslab reset` may remove this folder and what kmslab keeps in it.\n';

/**
 * Makes `dir` and any missing folder above it, leaving the marker in each
 * one it made (not in one that was there: a user's own folder given as
 * `--data-dir` stays theirs). Throws the system error. One level at a time,
 * not mkdir's `recursive`, which loops forever where mkdir says ENOENT under
 * a folder that exists (/proc/anything).
 */
export function makeOwnDir(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw Object.assign(new Error(`${dir} is not a folder`), { code: 'ENOTDIR' });
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d) && d !== dirname(d); d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    mkdirSync(d);
    writeFileSync(join(d, OWN_DIR_MARKER), MARKER_TEXT, { flag: 'wx' });
  }
}
