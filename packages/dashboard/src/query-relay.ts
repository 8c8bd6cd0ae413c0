import type { LoggedQuery } from '@kmslab/core';
import { authHeaders, type AdminSource } from './lab-sources.js';

/** Queries kept for a page that opens now, and the most sent in one batch. */
const KEPT = 200;

/**
 * The DNS server's live query log (`/queries/stream`), read once for every
 * open page and handed on in batches of at most one per 250 ms: a busy DNS
 * server makes thousands of entries a second, a page shows the latest few.
 * It starts with the latest 200 the server holds (`/queries`), then follows
 * from the last one it has (`after=SEQ`), so a page that opens shows the log
 * at once and a reconnect misses nothing.
 */
export class QueryRelay {
  readonly #source: AdminSource;
  readonly recent: LoggedQuery[] = [];
  readonly #listeners = new Set<(batch: LoggedQuery[]) => void>();
  #batch: LoggedQuery[] = [];
  #timer: NodeJS.Timeout | null = null;
  #abort: AbortController | null = null;
  #closed = false;
  /** The `seq` of the newest entry relayed on this connection: where its stream goes on from. */
  #lastSeq: number | null = null;

  constructor(source: AdminSource) {
    this.#source = source;
  }

  /** Starts reading while someone listens; stops when the last one leaves. */
  subscribe(listener: (batch: LoggedQuery[]) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#abort) void this.#read();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#stop();
    };
  }

  close(): void {
    this.#closed = true;
    this.#stop();
  }

  #stop(): void {
    this.#abort?.abort();
    this.#abort = null;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #read(): Promise<void> {
    const abort = (this.#abort = new AbortController());
    while (!abort.signal.aborted && !this.#closed) {
      try {
        // Every connection starts from the server's latest (it may have restarted, its seq from 1 again).
        const latest = await fetch(`${this.#source.url}/queries?limit=${KEPT}`, { headers: authHeaders(this.#source), signal: abort.signal });
        if (!latest.ok) throw new Error(`HTTP ${latest.status}`);
        this.recent.length = 0;
        this.#lastSeq = null;
        for (const e of (await latest.json()) as LoggedQuery[]) this.#add(e);
        this.#lastSeq ??= 0;
        const res = await fetch(`${this.#source.url}/queries/stream?after=${this.#lastSeq}`, { headers: authHeaders(this.#source), signal: abort.signal });
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        let text = '';
        for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
          text += chunk;
          let end: number;
          while ((end = text.indexOf('\n\n')) >= 0) {
            const event = text.slice(0, end);
            text = text.slice(end + 2);
            if (event.startsWith('data: ')) this.#add(JSON.parse(event.slice(6)));
          }
        }
      } catch {
        // The DNS server is away or restarting: try again in a second (the state poll shows it as down).
      }
      if (!abort.signal.aborted) await new Promise((r) => setTimeout(r, 1000).unref());
    }
  }

  #add(entry: LoggedQuery): void {
    if (typeof entry.seq === 'number') {
      // A replayed entry already relayed (a reconnection's backlog overlaps what was read).
      if (this.#lastSeq !== null && entry.seq <= this.#lastSeq) return;
      this.#lastSeq = entry.seq;
    }
    this.recent.push(entry);
    if (this.recent.length > KEPT) this.recent.splice(0, this.recent.length - KEPT);
    this.#batch.push(entry);
    if (this.#batch.length > KEPT) this.#batch.splice(0, this.#batch.length - KEPT);
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      const batch = this.#batch;
      this.#batch = [];
      for (const l of this.#listeners) l(batch);
    }, 250);
  }
}
