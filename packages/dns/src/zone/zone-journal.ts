import { DataDirLock, KmsLabError, openJournalSync, parseUserJson, readUserFile, replaceFileSync, writeWholeSync } from '@kmslab/core';
import { closeSync, existsSync, fdatasyncSync, ftruncateSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { ZONE_FILE_MAX_BYTES, parseRecordLines, parseZoneFile } from './zone-file.js';
import { presentRecord } from './presentation.js';
import { Zone } from './zone.js';
import { applyEntry, formatEntry, parseEntries, type ZoneChange } from './journal-entry.js';
import type { OwnershipState } from '../update/ownership.js';
import type { ZoneDiff } from './zone-history.js';

/** Where groups and grants added at run time are kept, beside the zones. */
const GRANTS_FILE = 'grants.json';
/** A journal is folded into its zone file once it is larger than this and than the zone file. */
const COMPACT_MIN_BYTES = 64 * 1024;

/** An open journal: where the next entry goes and the last entry's number. */
interface OpenJournal {
  fd: number;
  size: number;
  seq: number;
  snapshotBytes: number;
}

/**
 * Keeps each dynamically updated zone in the data dir: a snapshot, the
 * master file `<zone>.zone` (replaced whole: a new file, fsync, rename, fsync
 * of the folder), and the changes since, appended to `<zone>.journal` — one
 * entry per update, fdatasync'd before the update is answered (RFC 2136 §3.5),
 * so an update costs one small write and one flush, not the zone. The
 * journal is folded into a new snapshot when it outgrows it, by a health
 * check, and at a clean stop. A restart serves the snapshot with the entries
 * after it replayed; an entry a crash cut short was never acknowledged and
 * is cut off. (Not named `.jnl`: BIND would take that for its own journal of
 * the zone file.)
 */
export class ZoneJournal {
  readonly #lock: DataDirLock;
  readonly #open = new Map<string, OpenJournal>();
  readonly #onRepaired: ((message: string) => void) | undefined;

  /**
   * Takes `dir` for this process (a second DNS server on it is
   * KMSLAB_DATA_DIR_LOCKED); `close()` gives it back. `onWarning`: a lock
   * taken over from a process gone; `onRepaired`: what recovery mended or
   * set aside (a torn last entry, a journal that is not a regular file).
   */
  constructor(
    readonly dir: string,
    options: { onWarning?: (message: string) => void; onRepaired?: (message: string) => void } = {},
  ) {
    this.#onRepaired = options.onRepaired;
    this.#lock = DataDirLock.acquire(dir, 'kmslab dns start', options.onWarning);
  }

  /** Folds each journal into its zone's file (`zones`: the zones served now), closes the journals and gives the data dir back. */
  close(zones: Iterable<Zone> = []): void {
    for (const zone of zones) {
      const open = this.#open.get(zone.origin);
      if (!open || open.size === 0) continue;
      try {
        this.#snapshot(zone);
      } catch {
        // The journal still holds every entry the snapshot would have: nothing is lost.
      }
    }
    for (const open of this.#open.values()) closeSync(open.fd);
    this.#open.clear();
    this.#lock.release();
  }

  path(origin: string): string {
    return join(this.dir, `${origin === '' ? 'root' : origin}.zone`);
  }

  journalPath(origin: string): string {
    return join(this.dir, `${origin === '' ? 'root' : origin}.journal`);
  }

  /**
   * The zone as the last acknowledged change left it — the saved file with
   * the journal's entries after it replayed — with who owns each name
   * (secure zones), each dynamic record's timestamp and the history IXFR
   * answers from; null when it was never saved.
   */
  load(origin: string): Zone | null {
    const path = this.path(origin);
    if (!existsSync(path)) return null;
    // Read once: the records, then the kmslab lines (comments to any other reader of the file).
    const text = readUserFile(path, 'zone file', { maxBytes: ZONE_FILE_MAX_BYTES });
    const zone = Zone.of(origin, parseZoneFile(text, { origin, source: path }).records);
    for (const m of text.matchAll(/^;kmslab-owner (\S+) (\S+)$/gm)) zone.setOwner(m[1]!, m[2]!);
    // Each dynamic record's timestamp (aging), `;kmslab-stamp MS RECORD`, and the changes IXFR answers from,
    // `;kmslab-diff FROM TO` then its `;kmslab-del RECORD` and `;kmslab-add RECORD` lines; each RECORD as the file
    // writes records, one a line, all parsed at once.
    const lines = [...text.matchAll(/^;kmslab-(?:stamp (\d{1,16})|(diff|del|add)) (.+)$/gm)];
    const parsed = parseRecordLines(text, lines.filter((m) => m[2] !== 'diff'), (m) => m[3]!, { origin, source: path });
    const history: ZoneDiff[] = [];
    let next = 0;
    for (const [, at, kind, rest] of lines) {
      if (kind === 'diff') {
        const [from, to] = rest!.split(' ').map(Number);
        history.push({ from: from!, to: to!, deleted: [], added: [] });
        continue;
      }
      const record = parsed[next++]!;
      if (at !== undefined) zone.setStamp(record.name, record.type, record.data!, Number(at));
      else history.at(-1)?.[kind === 'del' ? 'deleted' : 'added'].push(record);
    }
    zone.restoreHistory(history);
    const snapshotSeq = Number(/^;kmslab-seq (\d{1,16})$/m.exec(text)?.[1] ?? 0);
    this.#replay(zone, snapshotSeq, Buffer.byteLength(text));
    return zone;
  }

  /**
   * Keeps `zone` (a changed copy, not served yet) before the change is
   * acknowledged: as one journal entry when `change` says what it touched,
   * else (or when the journal has outgrown the zone) as a new snapshot.
   * Throws the system error (ENOSPC…) with nothing kept: a torn entry is cut
   * back at once.
   */
  save(zone: Zone, change?: ZoneChange): void {
    const open = this.#open.get(zone.origin);
    if (!change || !open || open.size > Math.max(COMPACT_MIN_BYTES, open.snapshotBytes)) {
      this.#snapshot(zone);
      return;
    }
    const bytes = Buffer.from(formatEntry(zone, change, open.seq + 1));
    try {
      writeWholeSync(open.fd, bytes, open.size);
      fdatasyncSync(open.fd);
    } catch (err) {
      try {
        ftruncateSync(open.fd, open.size);
      } catch {
        // Shrinking needs no space; should even that fail, the next start cuts the torn entry.
      }
      throw err;
    }
    open.size += bytes.length;
    open.seq++;
  }

  /** Stops appending to `origin`'s journal (its saved zone was not taken: the zone file is newer); the next save is a snapshot. */
  forget(origin: string): void {
    const open = this.#open.get(origin);
    if (open) closeSync(open.fd);
    this.#open.delete(origin);
  }

  /** The zone whole as the new snapshot, then the journal emptied: entries up to its `;kmslab-seq` are in it. */
  #snapshot(zone: Zone): void {
    const open = this.#open.get(zone.origin);
    const seq = open?.seq ?? 0;
    const owners = zone.owners().map(([name, key]) => `;kmslab-owner ${name} ${key}\n`).join('');
    const stamps = zone.stamped().map((s) => `;kmslab-stamp ${s.at} ${presentRecord(s.record)}\n`).join('');
    const history = zone.history().map((d) => [`;kmslab-diff ${d.from} ${d.to}\n`, ...d.deleted.map((rr) => `;kmslab-del ${presentRecord(rr)}\n`), ...d.added.map((rr) => `;kmslab-add ${presentRecord(rr)}\n`)].join('')).join('');
    const text = `; ${zone.origin} serial ${zone.serial}, written by kmslab after a dynamic update\n${zone.records().map(presentRecord).join('\n')}\n;kmslab-seq ${seq}\n${owners}${stamps}${history}`;
    // No journal open: nothing on disk at its name holds an entry to keep (none was there, or it was not taken at
    // start), so it is made anew before the snapshot counts on it.
    const fresh = open ? null : { ...openJournalSync(this.journalPath(zone.origin), { fresh: true }), seq, snapshotBytes: 0 };
    try {
      replaceFileSync(this.path(zone.origin), text);
    } catch (err) {
      // Entries go only after a snapshot they follow: without one, the journal is not used.
      if (fresh) closeSync(fresh.fd);
      throw err;
    }
    const journal = open ?? fresh!;
    this.#open.set(zone.origin, journal);
    journal.snapshotBytes = Buffer.byteLength(text);
    // Emptied only now the snapshot holds its entries; should that fail, the replay skips them by number.
    try {
      if (journal.size > 0) ftruncateSync(journal.fd, 0);
      journal.size = 0;
    } catch {
      // Entries up to `seq` stay in the file, skipped at the next start; new ones go after them.
    }
  }

  /** Applies the journal's entries after the snapshot, cuts off a torn last one, and keeps the journal open to append to. */
  #replay(zone: Zone, snapshotSeq: number, snapshotBytes: number): void {
    const path = this.journalPath(zone.origin);
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat) return;
    if (!stat.isFile()) {
      // Not one kmslab made (a link planted in the data dir): never read or written through; the next save replaces it.
      this.#onRepaired?.(`${path} is not a regular file: ignored, and replaced by the next save of ${zone.origin}`);
      return;
    }
    const text = readUserFile(path, 'zone journal', { maxBytes: 2 * ZONE_FILE_MAX_BYTES, code: 'KMSLAB_STORE_CORRUPT' });
    const { entries, wholeBytes } = parseEntries(text, zone.origin, path);
    let seq = snapshotSeq;
    for (const entry of entries) {
      if (entry.seq <= seq) continue; // already in the snapshot (a crash between the two writes)
      if (entry.from !== zone.serial) {
        throw new KmsLabError('KMSLAB_STORE_CORRUPT', `${path}: entry ${entry.seq} follows serial ${entry.from}, the zone is at ${zone.serial}; move the journal away to start from ${this.path(zone.origin)}`);
      }
      applyEntry(zone, entry);
      seq = entry.seq;
    }
    const journal = { ...openJournalSync(path), seq, snapshotBytes };
    if (journal.size > wholeBytes) {
      ftruncateSync(journal.fd, wholeBytes);
      this.#onRepaired?.(`${path}: cut off ${journal.size - wholeBytes} bytes of an entry that was never completely written`);
      journal.size = wholeBytes;
    }
    this.#open.set(zone.origin, journal);
  }

  /** Groups and grants added at run time (`POST /grants`), or null when none were saved. */
  loadGrants(): OwnershipState | null {
    const path = join(this.dir, GRANTS_FILE);
    return existsSync(path) ? (parseUserJson(readUserFile(path, 'saved grants', { maxBytes: 4 * 1024 * 1024 }), path) as OwnershipState) : null;
  }

  /** Keeps secure zones, groups and grants whole (a new file, fsync, rename) before a change to them is acknowledged. */
  saveGrants(state: OwnershipState): void {
    replaceFileSync(join(this.dir, GRANTS_FILE), `${JSON.stringify(state, null, 2)}\n`);
  }
}
