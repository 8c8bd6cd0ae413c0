import { open, readFile, rename, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { KmsLabError } from '@kmslab/core';

/** One journal entry; `q` orders entries against the snapshot. */
export type JournalRecord =
  | { t: 'r'; f: string; c: string; n: number; th: number; s: string }
  | { t: 'x'; f: string; s: string }
  | { t: 'm'; k: string; c: string };
export type JournalEntry = JournalRecord & { q: number };

export interface Recovered<S> {
  snapshot: (S & { seq: number }) | null;
  entries: JournalEntry[];
}

const SNAPSHOT = 'snapshot.json';
const JOURNAL = 'journal.ndjson';

/**
 * Write-ahead journal with group commit, plus snapshot compaction. Entries
 * queued in one turn of the event loop go out in one write; every caller's
 * promise resolves only after its entry reached the file, so a host that
 * answers after `append` resolved never loses the answer to a process crash.
 */
export class Journal<S> {
  readonly #dir: string;
  readonly #compactEvery: number;
  #fd: FileHandle | null = null;
  #seq = 0;
  #sinceSnapshot = 0;
  /** Lines waiting for the next write, and the promise all their callers share. */
  #queue: string[] = [];
  #batch: Batch | null = null;
  #tail: Promise<void> = Promise.resolve();
  #takeSnapshot: (() => S) | null = null;

  constructor(dir: string, options: { compactEvery?: number } = {}) {
    this.#dir = dir;
    this.#compactEvery = options.compactEvery ?? 50_000;
  }

  /** Reads what a previous run left: the snapshot and the entries written after it (a torn last line is dropped). */
  async recover(): Promise<Recovered<S>> {
    const snapshotPath = join(this.#dir, SNAPSHOT);
    const journalPath = join(this.#dir, JOURNAL);
    let snapshot: (S & { seq: number }) | null = null;
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
    const text = (await readFile(journalPath, 'utf8').catch(notFound)) ?? '';
    const lines = text.split('\n');
    let validBytes = 0;
    for (const [i, line] of lines.entries()) {
      if (line === '') {
        validBytes += i < lines.length - 1 ? 1 : 0;
        continue;
      }
      let entry: JournalEntry;
      try {
        entry = JSON.parse(line);
      } catch (err) {
        if (i === lines.length - 1) {
          // Torn by a crash mid-write, so never acknowledged: cut it off before appending after it.
          await truncate(journalPath, validBytes);
          break;
        }
        throw new KmsLabError('KMSLAB_STORE_CORRUPT', `${journalPath} line ${i + 1} is not valid JSON`, { cause: err });
      }
      validBytes += Buffer.byteLength(line) + 1;
      if (entry.q > afterSeq) entries.push(entry);
    }
    this.#seq = Math.max(afterSeq, entries.at(-1)?.q ?? 0);
    this.#sinceSnapshot = entries.length;
    return { snapshot, entries };
  }

  /** Opens the journal for appending; `takeSnapshot` serialises the current state synchronously. */
  async open(takeSnapshot: () => S): Promise<void> {
    this.#takeSnapshot = takeSnapshot;
    this.#fd = await open(join(this.#dir, JOURNAL), 'a');
  }

  append(entry: JournalRecord): Promise<void> {
    this.#queue.push(JSON.stringify({ q: ++this.#seq, ...entry }));
    if (!this.#batch) {
      const batch = (this.#batch = deferred());
      // After every socket read of this turn, so one write carries them all.
      setImmediate(() => void this.#serial(() => this.#flush(batch)));
    }
    return this.#batch.promise;
  }

  /** Writes a snapshot now and empties the journal. */
  compact(): Promise<void> {
    return this.#serial(() => this.#compactNow());
  }

  async close(): Promise<void> {
    await this.#serial(async () => {
      await this.#flush();
      await this.#compactNow();
      await this.#fd?.close();
      this.#fd = null;
    });
  }

  /** Writes and compactions run one at a time, so a truncate never races a write. */
  #serial(op: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(op);
    this.#tail = run.catch(() => {});
    return run;
  }

  async #flush(batch: Batch | null = this.#batch): Promise<void> {
    if (!batch || batch !== this.#batch) return;
    const lines = this.#queue;
    this.#queue = [];
    this.#batch = null;
    try {
      if (!this.#fd) throw new Error('the journal is closed');
      // A synchronous write to the page cache (like Redis's appendfsync no) costs less
      // than a thread-pool round trip, and the batch is answered right after it.
      writeSync(this.#fd.fd, `${lines.join('\n')}\n`);
    } catch (err) {
      batch.reject(err as Error);
      return;
    }
    this.#sinceSnapshot += lines.length;
    batch.resolve();
    if (this.#sinceSnapshot >= this.#compactEvery) await this.#compactNow().catch(() => {});
  }

  /**
   * The state is serialised synchronously and already holds every entry
   * numbered so far (the store applies before it appends), so entries still
   * queued are covered by the snapshot and skipped on replay.
   */
  async #compactNow(): Promise<void> {
    if (!this.#takeSnapshot || !this.#fd) return;
    const state = { ...this.#takeSnapshot(), seq: this.#seq };
    const path = join(this.#dir, SNAPSHOT);
    await writeFile(`${path}.tmp`, JSON.stringify(state));
    await rename(`${path}.tmp`, path);
    await this.#fd.truncate(0);
    this.#sinceSnapshot = 0;
  }
}

interface Batch {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

function deferred(): Batch {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers that stopped waiting (a closed connection) must not turn a write error into an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

function notFound(err: NodeJS.ErrnoException): null {
  if (err.code === 'ENOENT') return null;
  throw err;
}
