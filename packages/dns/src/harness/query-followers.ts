import { nameMatches, type CompiledFilter } from './query-filter.js';

/** Where a follower's events go: an HTTP response (server-sent events), or anything that writes like one. */
export interface FollowerSink {
  write(chunk: Buffer): unknown;
  /** Bytes written but not yet taken by the follower. */
  readonly writableLength: number;
  destroy(): unknown;
}

/** How many may follow, and how far one may fall behind before it is let go. */
export interface FollowerLimits {
  /** Followers at once (`--query-log-followers`); one more is refused. Default 16. */
  max?: number;
  /** A follower with more than this waiting to be sent is disconnected (default 4 MiB). */
  maxUnsentBytes?: number;
  /** Events are sent in batches this often (default 50 ms): one write per follower per batch, not per query. */
  batchMs?: number;
  /**
   * Entries streamed a second at most, for all followers (default 5,000): past
   * it, entries are skipped (the log keeps them) and each follower is told
   * how many, so a flood costs the server a bounded amount of formatting.
   */
  maxPerSecond?: number;
}

interface Group {
  filter: CompiledFilter;
  members: Set<FollowerSink>;
  /** SSE frames waiting for the next batch, shared by every member. */
  frames: string[];
}

/**
 * The followers of `/queries/stream`. Each query is made into its JSON line
 * once, by the log, for all of them; followers with the same filter share one
 * group, whose frames are joined into one buffer per batch and written to
 * every member. A busy server's answers never wait for a follower: one that
 * does not take what it is sent is disconnected once its unsent bytes pass
 * the limit, and beyond `max` followers the next is refused.
 */
export class QueryFollowers {
  readonly #groups = new Map<string, Group>();
  readonly #max: number;
  readonly #maxUnsent: number;
  readonly #batchMs: number;
  readonly #maxPerSecond: number;
  /** The second the budget counts in, what it let through, and what it skipped since the last batch. */
  #second = -1;
  #admitted = 0;
  #skipped = 0;
  #size = 0;
  #timer: NodeJS.Timeout | null = null;
  /** Followers disconnected for falling behind, since the start. */
  dropped = 0;

  constructor(limits: FollowerLimits = {}) {
    this.#max = limits.max ?? 16;
    this.#maxUnsent = limits.maxUnsentBytes ?? 4 * 1024 * 1024;
    this.#batchMs = limits.batchMs ?? 50;
    this.#maxPerSecond = limits.maxPerSecond ?? 5000;
  }

  /** May an entry that arrived at `atMs` be streamed (the second's budget)? Cheap: asked before it is formatted. */
  admit(atMs: number): boolean {
    const second = Math.floor(atMs / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#admitted = 0;
    }
    if (this.#admitted < this.#maxPerSecond) {
      this.#admitted++;
      return true;
    }
    this.#skipped++;
    this.#timer ??= setTimeout(() => this.#send(), this.#batchMs);
    return false;
  }

  get size(): number {
    return this.#size;
  }

  get max(): number {
    return this.#max;
  }

  /** Adds a follower; returns its removal, or null when `max` follow already. */
  add(filter: CompiledFilter, sink: FollowerSink): (() => void) | null {
    if (this.#size >= this.#max) return null;
    const key = `${filter.dotted ?? ''}|${filter.suffix}|${filter.type ?? ''}`;
    let group = this.#groups.get(key);
    if (!group) this.#groups.set(key, (group = { filter, members: new Set(), frames: [] }));
    group.members.add(sink);
    this.#size++;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      group.members.delete(sink);
      this.#size--;
      if (group.members.size === 0) this.#groups.delete(key);
    };
  }

  /** A query for every follower whose filter it passes: `json` is its line, made once. */
  offer(name: string | undefined, isWire: boolean, qtype: number | undefined, json: string): void {
    let any = false;
    for (const g of this.#groups.values()) {
      if (g.filter.type !== undefined && g.filter.type !== qtype) continue;
      if (!nameMatches(g.filter, name, isWire)) continue;
      g.frames.push(`data: ${json}\n\n`);
      any = true;
    }
    if (any) this.#timer ??= setTimeout(() => this.#send(), this.#batchMs);
  }

  /** Stops the batch timer (the server is closing). */
  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #send(): void {
    this.#timer = null;
    // An SSE comment: followers read it as nothing, a person sees how much the stream left out.
    const skipped = this.#skipped ? `: skipped ${this.#skipped} entries (over ${this.#maxPerSecond} a second; GET /queries has them)\n\n` : '';
    this.#skipped = 0;
    for (const g of this.#groups.values()) {
      if (g.frames.length === 0 && !skipped) continue;
      const chunk = Buffer.from(skipped + g.frames.join(''));
      g.frames = [];
      for (const sink of g.members) {
        if (sink.writableLength + chunk.length > this.#maxUnsent) {
          this.dropped++;
          sink.destroy();
          continue;
        }
        sink.write(chunk);
      }
    }
  }
}
