import type { Socket } from 'node:net';

/** The limits a TcpConnections enforces. */
export interface TcpConnectionLimits {
  /** Connections at once; at the cap the least recently useful one that is waiting on nothing makes room. */
  maxConnections: number;
  /** A connection with nothing in flight and no whole message for this long is closed. */
  idleTimeoutMs: number;
  /** A message must arrive whole within this long of its first byte (the clock does not restart on later bytes). */
  messageTimeoutMs: number;
  /** Unsent answers above this many bytes stop reading from the connection until they drain. */
  highWaterBytes?: number;
  /** Requests in flight on one connection above this stop reading from it until answers go out. */
  maxInFlight?: number;
  /** Told when a connection is closed to make room, and when a newcomer is refused (metrics). */
  onEvict?: () => void;
  onRefuse?: () => void;
}

interface Entry {
  socket: Socket;
  /** Last time a whole message arrived or an answer went out; what idle and eviction order go by. */
  lastUseful: number;
  /** When the first byte of a message still incomplete arrived, else null. */
  partialSince: number | null;
  inFlight: number;
  paused: boolean;
  /** The server asked to stop reading for now (it is still working through what it read). */
  held: boolean;
}

/**
 * The connection rules a TCP server needs against slow or greedy peers
 * (RFC 7766 §6.2 for DNS; docs/protocol.md "Limits" for the KMS port):
 * - a message's time limit runs from its first byte, so trickled bytes do
 *   not keep a connection alive (slowloris);
 * - at the connection cap, the idle or half-sent connection that did
 *   something useful longest ago is closed to make room, and a new peer is
 *   refused only when every connection is waiting on an answer;
 * - reading stops while a connection's unsent answers or requests in flight
 *   are over their limits, and resumes as they go out (backpressure), so a
 *   peer that pipelines without reading cannot grow the server's memory.
 * Servers report what happens on each connection; one sweep timer enforces
 * the time limits for all of them.
 */
export class TcpConnections {
  readonly #o: Required<Omit<TcpConnectionLimits, 'onEvict' | 'onRefuse'>> & Pick<TcpConnectionLimits, 'onEvict' | 'onRefuse'>;
  readonly #now: () => number;
  /** Insertion order is least recently useful first: a use moves a connection to the end. */
  readonly #entries = new Map<Socket, Entry>();
  #sweeper: NodeJS.Timeout | null = null;
  /** Connections closed to make room, and new ones refused because none could be. */
  evicted = 0;
  refused = 0;

  constructor(limits: TcpConnectionLimits, now: () => number = Date.now) {
    this.#o = { highWaterBytes: 256 * 1024, maxInFlight: 1024, ...limits };
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** A new connection: true if it may stay (room was made when needed); false means it was destroyed. */
  admit(socket: Socket): boolean {
    if (this.#entries.size >= this.#o.maxConnections && !this.#evictOne()) {
      this.refused++;
      this.#o.onRefuse?.();
      socket.destroy();
      return false;
    }
    const entry: Entry = { socket, lastUseful: this.#now(), partialSince: null, inFlight: 0, paused: false, held: false };
    this.#entries.set(socket, entry);
    socket.once('close', () => this.#entries.delete(socket));
    socket.on('drain', () => this.#maybeResume(entry));
    this.#sweeper ??= setInterval(() => this.#sweep(), this.#sweepEveryMs()).unref();
    return true;
  }

  /** After a chunk was split into messages: `wholeMessages` complete ones, `partial` if bytes of the next are held. */
  received(socket: Socket, wholeMessages: number, partial: boolean): void {
    const e = this.#entries.get(socket);
    if (!e) return;
    const now = this.#now();
    if (wholeMessages > 0) {
      this.#touch(e, now);
      // A message completed: the next one's clock starts from its own first byte.
      e.partialSince = null;
    }
    if (partial) e.partialSince ??= now;
    else e.partialSince = null;
  }

  /** A request went in flight (it will be answered later). */
  started(socket: Socket): void {
    const e = this.#entries.get(socket);
    if (!e) return;
    e.inFlight++;
    this.#maybePause(e);
  }

  /** An answer was written (`finishedRequest`: it ends a request counted by `started`). */
  wrote(socket: Socket, finishedRequest = false): void {
    const e = this.#entries.get(socket);
    if (!e) return;
    if (finishedRequest) e.inFlight--;
    this.#touch(e, this.#now());
    if (!this.#maybePause(e)) this.#maybeResume(e);
  }

  /** Stops reading until `release`, whatever the limits say (a server working through a large chunk in slices). */
  hold(socket: Socket): void {
    const e = this.#entries.get(socket);
    if (!e) return;
    e.held = true;
    this.#maybePause(e);
  }

  release(socket: Socket): void {
    const e = this.#entries.get(socket);
    if (!e) return;
    e.held = false;
    this.#maybeResume(e);
  }

  close(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = null;
  }

  #touch(e: Entry, now: number): void {
    // Eviction order needs to be right to about a second, not per answer: move
    // the entry to the end at most once a second, so the hot path rarely touches the map.
    if (now - e.lastUseful >= 1000) {
      this.#entries.delete(e.socket);
      this.#entries.set(e.socket, e);
    }
    e.lastUseful = now;
  }

  #overLimits(e: Entry): boolean {
    return e.held || e.socket.writableLength > this.#o.highWaterBytes || e.inFlight >= this.#o.maxInFlight;
  }

  #maybePause(e: Entry): boolean {
    if (!this.#overLimits(e)) return false;
    if (!e.paused) {
      e.paused = true;
      e.socket.pause();
    }
    return true;
  }

  #maybeResume(e: Entry): void {
    if (e.paused && !this.#overLimits(e)) {
      e.paused = false;
      e.socket.resume();
    }
  }

  /** Closes the least recently useful connection waiting on nothing; false when every one has requests in flight. */
  #evictOne(): boolean {
    for (const e of this.#entries.values()) {
      if (e.inFlight > 0) continue;
      this.#entries.delete(e.socket);
      e.socket.destroy();
      this.evicted++;
      this.#o.onEvict?.();
      return true;
    }
    return false;
  }

  #sweepEveryMs(): number {
    return Math.max(10, Math.min(1000, this.#o.messageTimeoutMs / 4, this.#o.idleTimeoutMs / 4));
  }

  #sweep(): void {
    const now = this.#now();
    for (const e of this.#entries.values()) {
      const halfSent = e.partialSince !== null && now - e.partialSince >= this.#o.messageTimeoutMs;
      const idle = e.inFlight === 0 && now - e.lastUseful >= this.#o.idleTimeoutMs;
      if (halfSent || idle) e.socket.destroy();
    }
  }
}
