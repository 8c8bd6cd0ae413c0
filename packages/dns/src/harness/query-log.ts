import { KmsLabError, type LoggedQuery, type QueryLogEntry } from '@kmslab/core';
import { toEntry, type LogRecord } from './log-entry.js';
import { compileFilter, nameMatches, type CompiledFilter, type QueryFilter } from './query-filter.js';
import { QueryFollowers, type FollowerLimits, type FollowerSink } from './query-followers.js';
import { QueryLogFile } from './query-log-file.js';
import { QueryRing } from './query-ring.js';

export type { QueryFilter } from './query-filter.js';
export type { QueryLogEntry } from '@kmslab/core';


/** An entry as JSON shows it: `time` (ISO) first, then the rest. */
export function withIsoTime(e: QueryLogEntry): LoggedQuery {
  return { time: new Date(e.at).toISOString(), ...e };
}

/** The most entries one read returns (`limit`); older ones are a further read with `before=`. docs/dns-faults.md "Query log" */
export const MAX_PAGE = 10_000;

/** Records a read looks at before it lets the server answer queries again: a read of a 10-million ring never holds the loop for long. */
const SCAN_SLICE = 50_000;

/** What a QueryLog keeps and where it writes. */
export interface QueryLogOptions {
  /** Entries kept in memory (default 10,000). */
  capacity?: number;
  /** Also append every entry to this file as a JSON line. */
  file?: string | undefined;
  /** How many may follow `/queries/stream`, and how far one may fall behind. */
  followers?: FollowerLimits;
  /** Told once when the file first loses lines, or when a torn last line was cut off at start (for the log). */
  onFileProblem?: (message: string) => void;
}

/**
 * The last `capacity` queries in a ring, with live followers (server-sent
 * events), in-process subscribers and an optional JSON-lines file. Recording
 * copies a query into columns and allocates nothing; nothing is formatted
 * unless someone reads it, follows it, or a file is set — and then each entry
 * is made into JSON once for all of them.
 */
export class QueryLog {
  readonly capacity: number;
  readonly #ring: QueryRing;
  readonly #listeners = new Set<(e: QueryLogEntry) => void>();
  readonly #file: QueryLogFile | null;
  readonly #followers: QueryFollowers;

  constructor(options: QueryLogOptions = {}) {
    this.capacity = options.capacity ?? 10_000;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new RangeError('QueryLog capacity must be a whole number of at least 1');
    this.#ring = new QueryRing(this.capacity);
    this.#file = options.file ? new QueryLogFile(options.file, options.onFileProblem) : null;
    this.#followers = new QueryFollowers(options.followers);
  }

  /** Queries recorded since the start (the ring holds the last `capacity`); the newest one's `seq`. */
  get total(): number {
    return this.#ring.total;
  }

  /** Lines the file could not take, since the start. */
  get fileDropped(): number {
    return this.#file?.dropped ?? 0;
  }

  /** Why the file loses lines now, or null. */
  fileProblem(): string | null {
    return this.#file?.problem() ?? null;
  }

  /** Copies `r` into the ring (it may be reused by the caller right after). */
  record(r: LogRecord): void {
    this.#ring.push(r);
    // Followers take what the second's budget admits: past it nothing is formatted for them (query-followers.ts).
    const streamed = this.#followers.size > 0 && this.#followers.admit(r.at);
    if (this.#listeners.size === 0 && this.#file === null && !streamed) return;
    const entry = toEntry(r, this.#ring.total);
    for (const l of this.#listeners) l(entry);
    if (this.#file === null && !streamed) return;
    const json = JSON.stringify(withIsoTime(entry));
    this.#file?.add(json);
    if (streamed) this.#followers.offer(r.qname ?? r.qnameWire, r.qname === undefined && r.qnameWire !== undefined, r.qtype, json);
  }

  /** Matching entries, oldest first: the newest `limit` (at most MAX_PAGE) of those the filter passes. */
  find(filter: QueryFilter = {}): QueryLogEntry[] {
    const scan = this.#scan(filter);
    while (!scan.next().done);
    return scan.result();
  }

  /** `find`, a slice at a time, letting the server answer between slices (the admin API's reads). */
  async read(filter: QueryFilter = {}): Promise<QueryLogEntry[]> {
    const scan = this.#scan(filter);
    while (!scan.next().done) await new Promise((r) => setImmediate(r));
    return scan.result();
  }

  /** Follows the log from now on (`/queries/stream`); null when `followers().max` already follow. */
  follow(filter: Pick<QueryFilter, 'name' | 'type'>, sink: FollowerSink): (() => void) | null {
    return this.#followers.add(compileFilter(filter), sink);
  }

  /** How many follow now, how many may, and how many were let go for falling behind. */
  followers(): { size: number; max: number; dropped: number } {
    return { size: this.#followers.size, max: this.#followers.max, dropped: this.#followers.dropped };
  }

  /** Calls `listener` with every entry from now on (in this process); returns the unsubscribe. */
  subscribe(listener: (e: QueryLogEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#followers.close();
    this.#file?.close();
  }

  /**
   * Newest to oldest by sequence number, a slice per `next()`. Records pushed
   * while the scan waits are newer than it started from and not looked at;
   * records overwritten meanwhile end it (they are gone).
   */
  #scan(filter: QueryFilter): { next(): { done: boolean }; result(): QueryLogEntry[] } {
    const limit = checkLimit(filter.limit);
    const compiled: CompiledFilter = compileFilter(filter);
    const ring = this.#ring;
    const out: QueryLogEntry[] = [];
    let seq = Math.min(ring.total, filter.before === undefined ? Infinity : filter.before - 1);
    const stopAt = Math.max(filter.after ?? 0, 0);
    let done = false;
    return {
      next: () => {
        for (let n = 0; n < SCAN_SLICE && !done; n++, seq--) {
          if (seq <= stopAt || seq < ring.oldest || out.length >= limit) done = true;
          else if (filter.since !== undefined && ring.timeOf(seq) < filter.since) done = true;
          else if (compiled.type !== undefined && ring.qtypeOf(seq) !== compiled.type) continue;
          else if (nameMatches(compiled, ring.nameOf(seq), ring.isWire(seq))) out.push(toEntry(ring.bySeq(seq), seq));
        }
        return { done };
      },
      result: () => out.reverse(),
    };
  }
}

function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `limit must be a whole number from 1 to ${MAX_PAGE}; read older entries with before=SEQ (the seq of the oldest you have)`);
  }
  return limit;
}
