import { lstat, open, readFile } from 'node:fs/promises';
import { closeSync, constants, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { KmsLabError, openJournalSync, replaceFile, writeWholeSync } from '@kmslab/core';

/** One journal entry; `q` orders entries against the snapshot. */
export type JournalRecord =
  | { t: 'r'; f: string; c: string; n: number; th: number; s: string }
  | { t: 'x'; f: string; s: string }
  /** `l`: the key's activation limit, so replay makes the same decision the host made. */
  | { t: 'm'; k: string; c: string; l?: number };
export type JournalEntry = JournalRecord & { q: number };

export interface Recovered<S> {
  snapshot: (S & { seq: number }) | null;
  entries: JournalEntry[];
  /** Things a previous run left that recovery mended (a torn last line cut off). */
  warnings: string[];
}

const SNAPSHOT = 'snapshot.json';
const JOURNAL = 'journal.ndjson';
/** What the health probe asks the disk for: about one batch of entries. */
const PROBE_BYTES = 4096;

interface Pending {
  line: string;
  q: number;
  apply: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/**
 * Write-ahead journal with group commit, plus snapshot compaction. Entries
 * queued in one turn of the event loop go out in one write. An entry's
 * `apply` runs (in append order) only once its line is wholly in the file,
 * and its promise resolves with what `apply` returned: a host that answers
 * after `append` resolved never loses the answer to a process crash, and a
 * write that fails (a full disk) leaves both the file and the state as they
 * were.
 */
export class Journal<S> {
  readonly #dir: string;
  readonly #compactEvery: number;
  #fd: number | null = null;
  /** The journal's name held something kmslab did not make (a planted link): not read, and replaced at open. */
  #planted = false;
  /** Bytes of whole lines in the file: a failed write is cut back to this. */
  #size = 0;
  #seq = 0;
  /** The last entry that reached the file and was applied: a snapshot covers up to it. */
  #durableSeq = 0;
  #sinceSnapshot = 0;
  #queue: Pending[] = [];
  #flushScheduled = false;
  #tail: Promise<void> = Promise.resolve();
  #takeSnapshot: (() => S) | null = null;
  /** The last write error, until a write or a probe succeeds again. */
  #failure: Error | null = null;

  constructor(dir: string, options: { compactEvery?: number | undefined } = {}) {
    this.#dir = dir;
    this.#compactEvery = options.compactEvery ?? 50_000;
  }

  get path(): string {
    return join(this.#dir, JOURNAL);
  }

  /**
   * Reads what a previous run left: the snapshot and the entries written
   * after it. Every acknowledged entry ends with a newline, so bytes after the
   * last newline were never acknowledged: they are cut off with a warning (as
   * Redis does with a truncated AOF). A bad line before that is corruption.
   */
  async recover(): Promise<Recovered<S>> {
    const snapshotPath = join(this.#dir, SNAPSHOT);
    const journalPath = this.path;
    const warnings: string[] = [];
    let snapshot: (S & { seq: number }) | null = null;
    // A link (or a FIFO…) planted at either name is never read through, truncated or written through.
    if (!['file', 'none'].includes(await kindOf(snapshotPath))) throw new KmsLabError('KMSLAB_STORE_CORRUPT', `${snapshotPath} is not a regular file; move it away to start empty`);
    const snapText = await readFile(snapshotPath, 'utf8').catch(notFound);
    if (snapText !== null) {
      try {
        snapshot = JSON.parse(snapText);
      } catch (err) {
        throw new KmsLabError('KMSLAB_STORE_CORRUPT', `${snapshotPath} is not valid JSON; move it away to start empty`, { cause: err });
      }
    }
    const afterSeq = snapshot?.seq ?? 0;
    const entries: JournalEntry[] = [];
    let bytes = Buffer.alloc(0);
    const kind = await kindOf(journalPath);
    if (kind === 'folder') throw new KmsLabError('KMSLAB_STORE_CORRUPT', `${journalPath} is a folder, not a journal; move it away to start from ${SNAPSHOT} alone`);
    if (kind === 'other') {
      this.#planted = true;
      warnings.push(`${journalPath} is not a regular file: ignored, and replaced by a new journal`);
    } else if (kind === 'file') {
      const fh = await open(journalPath, constants.O_RDWR | constants.O_NOFOLLOW);
      try {
        bytes = await fh.readFile();
        const complete = bytes.lastIndexOf(0x0a) + 1;
        if (complete < bytes.length) {
          await fh.truncate(complete);
          warnings.push(`${journalPath}: cut off ${bytes.length - complete} bytes of a last line that was never completely written`);
          bytes = bytes.subarray(0, complete);
        }
      } finally {
        await fh.close();
      }
    }
    const lines = bytes.toString('utf8').split('\n');
    lines.pop(); // after the last newline
    for (const [i, line] of lines.entries()) {
      if (line === '') continue;
      let entry: JournalEntry;
      try {
        entry = JSON.parse(line);
      } catch (err) {
        throw new KmsLabError('KMSLAB_STORE_CORRUPT', `${journalPath} line ${i + 1} is not valid JSON`, { cause: err });
      }
      if (entry.q > afterSeq) entries.push(entry);
    }
    this.#seq = this.#durableSeq = Math.max(afterSeq, entries.at(-1)?.q ?? 0);
    this.#sinceSnapshot = entries.length;
    this.#size = bytes.length;
    return { snapshot, entries, warnings };
  }

  /** Opens the journal for appending; `takeSnapshot` serialises the current state synchronously. */
  async open(takeSnapshot: () => S): Promise<void> {
    this.#takeSnapshot = takeSnapshot;
    const { fd, size } = openJournalSync(this.path, { fresh: this.#planted });
    this.#planted = false;
    this.#fd = fd;
    this.#size = size;
  }

  /** Queues an entry; `apply` changes the state once the entry is on file, and its result resolves the promise. */
  append<T>(entry: JournalRecord, apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const q = ++this.#seq;
      this.#queue.push({ line: JSON.stringify({ q, ...entry }), q, apply, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // After every socket read of this turn, so one write carries them all.
        setImmediate(() => void this.#serial(() => this.#flush()));
      }
    });
  }

  /**
   * False while writes fail. A failing journal tries the disk again here
   * (writes a probe and cuts it off), so health comes back by itself once
   * there is room.
   */
  async healthy(): Promise<boolean> {
    if (!this.#failure) return true;
    await this.#serial(async () => {
      if (!this.#failure || this.#fd === null) return;
      try {
        // Blank lines are skipped on recovery, so even a probe a crash leaves behind is harmless.
        writeWholeSync(this.#fd, Buffer.alloc(PROBE_BYTES, 0x0a), this.#size);
        ftruncateSync(this.#fd, this.#size);
        this.#failure = null;
      } catch (err) {
        this.#cutBack(err as Error);
      }
    });
    return this.#failure === null;
  }

  /** Why the journal cannot take writes now, or null. */
  get failure(): Error | null {
    return this.#failure;
  }

  /** Writes a snapshot now and empties the journal. */
  compact(): Promise<void> {
    return this.#serial(() => this.#compactNow());
  }

  async close(): Promise<void> {
    await this.#serial(async () => {
      await this.#flush();
      try {
        await this.#compactNow();
      } catch {
        // The journal still holds everything the snapshot would have: nothing is lost.
      }
      if (this.#fd !== null) closeSync(this.#fd);
      this.#fd = null;
    });
  }

  /** Writes and compactions run one at a time, so a truncate never races a write. */
  #serial(op: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(op);
    this.#tail = run.catch(() => {});
    return run;
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    try {
      if (this.#fd === null) throw new KmsLabError('KMSLAB_HOST_UNAVAILABLE', 'The journal is closed');
      // A synchronous write to the page cache (like Redis's appendfsync no) costs less
      // than a thread-pool round trip, and the batch is answered right after it.
      const bytes = Buffer.from(`${batch.map((p) => p.line).join('\n')}\n`);
      writeWholeSync(this.#fd, bytes, this.#size);
      this.#size += bytes.length;
    } catch (err) {
      this.#cutBack(err as Error);
      const e = new KmsLabError('KMSLAB_HOST_UNAVAILABLE', `The host cannot write its journal (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); nothing was counted`, { cause: err });
      for (const p of batch) p.reject(e);
      return;
    }
    this.#failure = null;
    for (const p of batch) {
      let value: unknown;
      try {
        value = p.apply();
      } catch (err) {
        p.reject(err as Error);
        continue;
      }
      p.resolve(value);
    }
    this.#durableSeq = batch.at(-1)!.q;
    this.#sinceSnapshot += batch.length;
    if (this.#sinceSnapshot >= this.#compactEvery) await this.#compactNow().catch(() => {});
  }

  /** After a failed write: cut the file back to its whole lines, so a torn entry never precedes the next. */
  #cutBack(err: Error): void {
    this.#failure = err;
    if (this.#fd === null) return;
    try {
      ftruncateSync(this.#fd, this.#size);
    } catch {
      // Shrinking a file needs no space; should even that fail, recovery cuts the torn tail.
    }
  }

  /**
   * The state is serialised synchronously and holds exactly the entries up to
   * #durableSeq (entries are applied only once written), so entries still
   * queued are written after the journal is emptied and replayed after it.
   */
  async #compactNow(): Promise<void> {
    if (!this.#takeSnapshot || this.#fd === null) return;
    const state = { ...this.#takeSnapshot(), seq: this.#durableSeq };
    // Whole or not at all, on disk before the journal it replaces is emptied (durable-file.ts).
    await replaceFile(join(this.#dir, SNAPSHOT), JSON.stringify(state));
    ftruncateSync(this.#fd, 0);
    this.#size = 0;
    this.#sinceSnapshot = 0;
  }
}

/** What is at `path`, not following a link: a regular file, nothing, a folder, or something else (a link, a FIFO). */
async function kindOf(path: string): Promise<'file' | 'none' | 'folder' | 'other'> {
  const stat = await lstat(path).catch(notFound);
  return stat === null ? 'none' : stat.isFile() ? 'file' : stat.isDirectory() ? 'folder' : 'other';
}

function notFound(err: NodeJS.ErrnoException): null {
  if (err.code === 'ENOENT') return null;
  throw err;
}
