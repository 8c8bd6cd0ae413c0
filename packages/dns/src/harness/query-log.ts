import { closeSync, openSync, writeSync } from 'node:fs';
import { TYPE } from '@kmslab/dns-wire';
import { toEntry, type LogRecord } from './log-entry.js';
import { QueryRing } from './query-ring.js';
import { dottedName } from '../answer-cache.js';

/** One query or update as the server received and answered it. */
export interface QueryLogEntry {
  /** When it arrived (ms since the epoch); JSON forms add `time` as ISO. */
  at: number;
  client: { address: string; port: number };
  transport: 'udp' | 'tcp';
  id: number;
  /** `query`, `update`, `transfer`, or what else the server made of it (`malformed`, `notimp`…). */
  kind: string;
  qname: string | null;
  qtype: string | null;
  flags: { rd: boolean; ednsSize: number | null; do: boolean };
  /** The answer's rcode name, or null when nothing was sent (dropped). */
  rcode: string | null;
  answers: number;
  tc: boolean;
  latencyMs: number;
  /** The fault applied (`servfail`, `delay:500`…) and its rule id, or null. */
  fault: { id: string; action: string } | null;
  /** The TSIG key of a signed update or transfer. */
  key: string | null;
}

/** Which logged queries to return. */
export interface QueryFilter {
  /** Exact name, or `*.suffix`. */
  name?: string;
  type?: string;
  /** Entries at or after this time (ms). */
  since?: number;
  /** The newest `limit` matches (default 100, at most the log's size). */
  limit?: number;
}

/** An entry as JSON shows it: `time` (ISO) first, then the rest. */
export function withIsoTime(e: QueryLogEntry): QueryLogEntry & { time: string } {
  return { time: new Date(e.at).toISOString(), ...e };
}

/** Lines waiting for the file beyond this are dropped (and counted) rather than held: a slow disk must not grow memory. */
const MAX_PENDING_LINES = 10_000;

/**
 * The last `capacity` queries in a ring, with live subscribers (server-sent
 * events) and an optional JSON-lines file written once per event-loop turn.
 * Recording copies a query into columns and allocates nothing; nothing is
 * formatted unless someone reads it, follows it, or a file is set.
 */
export class QueryLog {
  readonly capacity: number;
  readonly #ring: QueryRing;
  #total = 0;
  readonly #listeners = new Set<(e: QueryLogEntry) => void>();
  readonly #fd: number | null;
  #pending: string[] = [];
  #flushScheduled = false;
  /** Lines the file did not get (disk errors, or more than MAX_PENDING_LINES waiting). */
  fileDropped = 0;

  constructor(options: { capacity?: number; file?: string | undefined } = {}) {
    this.capacity = options.capacity ?? 10_000;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new RangeError('QueryLog capacity must be a whole number of at least 1');
    this.#ring = new QueryRing(this.capacity);
    this.#fd = options.file ? openSync(options.file, 'a') : null;
  }

  /** Queries recorded since the start (the ring holds the last `capacity`). */
  get total(): number {
    return this.#total;
  }

  /** Copies `r` into the ring (it may be reused by the caller right after). */
  record(r: LogRecord): void {
    this.#ring.push(r);
    this.#total++;
    if (this.#listeners.size === 0 && this.#fd === null) return;
    const entry = toEntry(r);
    for (const l of this.#listeners) l(entry);
    if (this.#fd !== null) this.#toFile(entry);
  }

  /** Matching entries, oldest first. */
  find(filter: QueryFilter = {}): QueryLogEntry[] {
    const limit = Math.min(filter.limit ?? 100, this.capacity);
    const wildcard = filter.name?.startsWith('*.') ? filter.name.slice(1).toLowerCase() : null;
    const exact = wildcard === null && filter.name ? filter.name.toLowerCase().replace(/\.$/, '') : null;
    const type = filter.type ? ((TYPE as Record<string, number>)[filter.type.toUpperCase()] ?? -1) : undefined;
    const out: QueryLogEntry[] = [];
    // Newest first, so `limit` keeps the most recent; reversed at the end.
    for (let back = 0; back < this.#ring.size && out.length < limit; back++) {
      if (filter.since !== undefined && this.#ring.atOf(back) < filter.since) break;
      const e = this.#ring.get(back);
      const q = (e.qname ?? (e.qnameWire === undefined ? '' : dottedName(e.qnameWire))).toLowerCase();
      if (exact !== null && q !== exact) continue;
      if (wildcard !== null && !q.endsWith(wildcard)) continue;
      if (type !== undefined && e.qtype !== type) continue;
      out.push(toEntry(e));
    }
    return out.reverse();
  }

  /** Calls `listener` with every entry from now on; returns the unsubscribe. */
  subscribe(listener: (e: QueryLogEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#flush();
    if (this.#fd !== null) closeSync(this.#fd);
  }

  #toFile(entry: QueryLogEntry): void {
    if (this.#pending.length >= MAX_PENDING_LINES) {
      this.fileDropped++;
      return;
    }
    this.#pending.push(JSON.stringify(withIsoTime(entry)));
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#fd === null || this.#pending.length === 0) return;
    const lines = this.#pending;
    this.#pending = [];
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(this.#fd, bytes, done, bytes.length - done);
    } catch {
      // The log is a test aid: a full disk loses log lines, never answers.
      this.fileDropped += lines.length;
    }
  }
}
