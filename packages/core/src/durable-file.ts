import { closeSync, constants, fstatSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The temporary file is made anew, never reused: O_EXCL fails on anything
 * already at its name, and O_NOFOLLOW on a symlink, so a link planted in a
 * data dir (`snapshot.json.tmp -> ~/.bashrc`) makes the write fail instead of
 * overwriting its target.
 */
const EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** write(2) may take part of a buffer (a nearly full disk): go on until all of it is written, or it throws; at `position` when given. */
export function writeWholeSync(fd: number, bytes: Buffer, position?: number): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, position === undefined ? null : position + done);
}

/** A temporary file a crash left is not ours to keep; unlink removes a link, never what it points at. */
function removeStale(tmp: string): void {
  try {
    unlinkSync(tmp);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** fsync of the folder, so the rename itself survives a power cut (POSIX leaves it in the folder's metadata). */
function syncFolder(path: string): void {
  const fd = openSync(dirname(path), constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens `path` to write at its end (a journal), created when missing — or,
 * with `fresh`, made anew whatever was there (a link planted at its name is
 * removed, never followed: O_NOFOLLOW and O_EXCL as for the temporary files
 * above) — and the folder synced when it was created, so a journal an fsync
 * later vouches for is not lost with its directory entry. The caller writes
 * at `size` and fdatasyncs each entry.
 */
export function openJournalSync(path: string, options: { mode?: number; fresh?: boolean } = {}): { fd: number; size: number } {
  let created = false;
  let fd: number;
  if (options.fresh) removeStale(path);
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, options.mode ?? 0o644);
    created = true;
  }
  try {
    const size = fstatSync(fd).size;
    if (created) syncFolder(path);
    return { fd, size };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * Replaces `path` with `data` whole or not at all: a new temporary file
 * beside it, every byte written (write(2) may take part of a buffer on a
 * nearly full disk), fsync, rename over the old file, fsync of the folder.
 * A failure at any step leaves the old file as it was and no temporary file,
 * and throws the system error (ENOSPC, EEXIST for a planted name…).
 */
export function replaceFileSync(path: string, data: string | Buffer, options: { mode?: number; durable?: boolean } = {}): void {
  const tmp = `${path}.tmp`;
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  removeStale(tmp);
  const fd = openSync(tmp, EXCLUSIVE, options.mode ?? 0o644);
  try {
    try {
      writeWholeSync(fd, bytes);
      if (options.durable !== false) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // Already renamed, or never there: nothing to clean.
    }
    throw err;
  }
  if (options.durable !== false) syncFolder(path);
}

/** `replaceFileSync` off the event loop (a snapshot of many clients takes a while to write). */
export async function replaceFile(path: string, data: string | Buffer, options: { mode?: number; durable?: boolean } = {}): Promise<void> {
  const tmp = `${path}.tmp`;
  removeStale(tmp);
  const handle = await open(tmp, EXCLUSIVE, options.mode ?? 0o644);
  try {
    try {
      await handle.writeFile(data);
      if (options.durable !== false) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  if (options.durable !== false) syncFolder(path);
}
