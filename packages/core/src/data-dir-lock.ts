import { closeSync, constants, lstatSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { KmsLabError } from './errors.js';
import { makeOwnDir } from './own-dir.js';

/** The lock's file name in a data dir. */
export const LOCK_FILE = 'kmslab.lock';

/** Who holds a data dir: what its lock file says. */
export interface LockHolder {
  pid: number;
  host: string;
  /** The holder's start time as the kernel counts it (/proc/PID/stat field 22), to tell a reused PID apart; null elsewhere. */
  start: string | null;
  /** What it is (`host start`, `dns start`, `kmslab up`). */
  what: string;
  since: string;
}

/** The kernel's start time of a process (clock ticks since boot), or null where /proc does not say. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | null {
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    let text: string;
    try {
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
    const h = JSON.parse(text) as Partial<LockHolder>;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? { pid: h.pid, host: h.host, start: h.start ?? null, what: h.what ?? 'kmslab', since: h.since ?? '' } : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    // Not readable as a lock: one being written this very moment (pid -1: held), or one a crash left half written, or a link (pid 0: no one).
    const fresh = (() => {
      try {
        return Date.now() - lstatSync(path).mtimeMs < 2000;
      } catch {
        return false;
      }
    })();
    return { pid: fresh ? -1 : 0, host: hostname(), start: null, what: fresh ? 'another kmslab process taking it' : 'unknown', since: '' };
  }
}

/**
 * Is the holder running? Its PID answers, and it started when the lock says
 * (a PID the kernel gave to another process since is not the holder). A
 * holder on another machine (a shared folder, another container) cannot be
 * asked: it counts as running.
 */
function holderRuns(h: LockHolder): boolean {
  if (h.pid === -1) return true;
  if (h.pid <= 0) return false;
  if (h.host !== hostname()) return true;
  if (h.pid === process.pid) return h.start !== null && h.start === processStart(process.pid);
  if (!alive(h.pid)) return false;
  const start = processStart(h.pid);
  return h.start === null || start === null || start === h.start;
}

/** A data dir that is no folder, or one this process may not write: one line, before anything starts. */
function unusable(dir: string, err: unknown): KmsLabError {
  const code = (err as NodeJS.ErrnoException).code ?? 'unusable';
  const why = code === 'ENOENT' ? 'no folder can be made there' : code === 'EEXIST' || code === 'ENOTDIR' ? 'it, or a folder on its path, is a file' : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'this user may not write there' : code;
  return new KmsLabError('KMSLAB_INVALID_ARGUMENT', `The data dir ${dir} cannot be used (${code}: ${why}); give --data-dir a folder kmslab may write`, { cause: err });
}

/** Why a data dir cannot be used now: who holds it, and what to do. */
function lockedError(dir: string, h: LockHolder): KmsLabError {
  const where = h.host === hostname() ? '' : ` on ${h.host}`;
  const tail = h.host === hostname() ? 'stop it, or give another --data-dir' : `stop it there; if it is gone for good, remove ${join(dir, LOCK_FILE)}`;
  return new KmsLabError('KMSLAB_DATA_DIR_LOCKED', `${dir} is in use by process ${h.pid}${where} (${h.what}${h.since ? `, since ${h.since}` : ''}): ${tail}`, { detail: { ...h } });
}

/**
 * One process per data dir (host memory store, DNS zone journal, `kmslab
 * up`): two writers of one journal would each acknowledge what the other
 * overwrites. The lock is a file made exclusively, holding the holder's PID,
 * host and start time; a lock whose process is gone (a crash, `kill -9`) is
 * taken over with a warning. A second process is refused before it reads or
 * writes anything, with one line naming the holder.
 */
export class DataDirLock {
  readonly dir: string;
  readonly #path: string;
  readonly #mine: string;
  #released = false;

  private constructor(dir: string, content: string) {
    this.dir = dir;
    this.#path = join(dir, LOCK_FILE);
    this.#mine = content;
  }

  /** Takes `dir` (made when missing) for this process; `onWarning` hears of a stale lock taken over. */
  static acquire(dir: string, what: string, onWarning: (message: string) => void = () => {}): DataDirLock {
    try {
      makeOwnDir(dir);
    } catch (err) {
      throw unusable(dir, err);
    }
    const path = join(dir, LOCK_FILE);
    const content = `${JSON.stringify({ pid: process.pid, host: hostname(), start: processStart(process.pid), what, since: new Date().toISOString() } satisfies LockHolder)}\n`;
    for (let attempt = 0; attempt < 3; attempt++) {
      let fd: number;
      try {
        fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw unusable(dir, err);
        const holder = readHolder(path);
        if (holder && holderRuns(holder)) throw lockedError(dir, holder);
        // Gone: take it over, unless it changed under us (another process took it over first).
        if (JSON.stringify(readHolder(path)) !== JSON.stringify(holder)) continue;
        try {
          unlinkSync(path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
        if (holder && holder.pid > 0) onWarning(`${dir}: took over the lock of process ${holder.pid} (${holder.what}), which is no longer running`);
        continue;
      }
      try {
        writeSync(fd, content);
      } finally {
        closeSync(fd);
      }
      return new DataDirLock(dir, content);
    }
    const holder = readHolder(path);
    throw lockedError(dir, holder ?? { pid: 0, host: hostname(), start: null, what: 'unknown', since: '' });
  }

  /** Who holds `dir` now, or null when no running process does. */
  static holder(dir: string): LockHolder | null {
    const h = readHolder(join(dir, LOCK_FILE));
    return h && holderRuns(h) ? h : null;
  }

  /** Gives the dir back (only a lock that is still this one's). Safe to call twice. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    try {
      if (readFileSync(this.#path, 'utf8') === this.#mine) unlinkSync(this.#path);
    } catch {
      // Gone already: nothing to give back.
    }
  }
}
