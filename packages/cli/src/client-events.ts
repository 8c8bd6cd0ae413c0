import { closeSync, constants, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { EventLog, replaceFileSync, type KmsEvent } from '@kmslab/core';

/** A client's events, one JSON line each, in its state folder: what `kmslab client events` reads, as Event Viewer reads a machine's log. */
const FILE = 'events.jsonl';
/** The newest kept; the file is cut back to these when it holds twice as many. */
const KEEP = 1000;

/** The events in a client's state folder, oldest first (none before its first activation). */
export function readClientEvents(stateDir: string): KmsEvent[] {
  const file = join(stateDir, FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').flatMap((line) => {
    try {
      return line ? [JSON.parse(line) as KmsEvent] : [];
    } catch {
      return []; // a line a crash cut short: the others stand
    }
  });
}

/**
 * The client's event log for this run: numbered on from the folder's file,
 * each event appended to it as it is logged (so `client events` sees the
 * events of `client activate` and of a running `client run` alike).
 */
export function clientEventLog(stateDir: string): EventLog {
  const file = join(stateDir, FILE);
  const kept = readClientEvents(stateDir);
  const log = new EventLog(KEEP, Date.now, kept.at(-1)?.seq ?? 0);
  let lines = kept.length;
  log.follow((e) => {
    // Never through a symlink someone planted in the folder (as with every file kmslab writes).
    const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    try {
      writeSync(fd, `${JSON.stringify(e)}\n`);
    } finally {
      closeSync(fd);
    }
    if (++lines >= 2 * KEEP) {
      const newest = readClientEvents(stateDir).slice(-KEEP);
      replaceFileSync(file, newest.map((x) => `${JSON.stringify(x)}\n`).join(''));
      lines = newest.length;
    }
  });
  return log;
}
