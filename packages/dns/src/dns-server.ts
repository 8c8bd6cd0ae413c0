import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { listenFailed, seededRandom, type KmsLabError } from '@kmslab/core';
import { TcpConnections } from '@kmslab/server-kit';
import type { Logger } from 'pino';
import { literalAddress } from './literal-address.js';
import { AnswerCache } from './answer-cache.js';
import { Ownership } from './update/ownership.js';
import { Aging, type ScavengedRecord } from './zone/aging.js';
import { Notifier } from './notify.js';
import { SecondaryZone } from './secondary.js';
import { TYPE, canonicalName, type DnsTarget, type TsigKey } from '@kmslab/dns-wire';
import type { FaultNet } from './harness/fault-rule.js';
import { ReplayGuard } from './update/replay-guard.js';
import { handleMessage } from './handle-message.js';
import type { Client, Handled, ServerContext } from './path/exchange.js';
import { FaultSet } from './harness/fault-set.js';
import { emptyRecord, fillRecord } from './harness/log-entry.js';
import { DnsStats } from './harness/dns-stats.js';
import { QueryLog } from './harness/query-log.js';
import type { KeyPolicy } from './update/policy.js';
import type { ZoneChange } from './zone/journal-entry.js';
import type { Zone } from './zone/zone.js';
import type { ZoneSet } from './zone/zone-set.js';

/** Zones, keys, listeners, limits and the test harness of a DnsServer. */
export interface DnsServerOptions {
  zones: ZoneSet;
  /** TSIG keys by name with their grants; updates need one, and so do transfers once any exists. */
  keys?: readonly KeyPolicy[];
  /** Time for TSIG checks (ms since the epoch). */
  now?: () => number;
  /**
   * Keeps a zone as a dynamic update leaves it (the zone journal), before the
   * update is answered and the change served; throws when it cannot, and the
   * update is SERVFAIL (RFC 2136 §3.5). `change` (the serial it started
   * from, the names it touched) lets the journal keep only that; without it
   * the zone is saved whole.
   */
  saveZone?: (zone: Zone, change?: ZoneChange) => void;
  /** Addresses to listen on (UDP and TCP); default dual-stack `::`. */
  listen?: readonly string[];
  /** 0 picks a free port shared by UDP and TCP. Default 53. */
  port?: number;
  logger?: Logger;
  maxTcpConnections?: number;
  /** false: answer every query in full (for comparisons); default: pre-encoded answers for plain queries. */
  cache?: boolean;
  tcpIdleTimeoutMs?: number;
  /** The query log (the test harness): default a ring of 10,000; null turns it off. */
  queryLog?: QueryLog | null;
  /** Faults switched on at run time; default an empty set, seeded by `seed`. */
  faults?: FaultSet;
  /** Seed for fault probabilities, so a run fails the same queries again. */
  seed?: number;
  /** Secure zones, groups and grants (update/ownership.ts); default no zone is secure. */
  ownership?: Ownership;
  /** Record timestamps, aging zones and the scavenging period (zone/aging.ts); default no zone ages. */
  aging?: Aging;
  /** Secondaries told of every change by NOTIFY (RFC 1996), signed with `key` when given (`--notify`, notify.ts). */
  notify?: { targets: readonly DnsTarget[]; key?: TsigKey | null | undefined } | undefined;
  /** Client prefixes whose secondaries transfer without a key (`--allow-transfer`). */
  allowTransfer?: readonly FaultNet[] | undefined;
}

/** `/healthz` of the DNS admin listener (docs/admin-api.md). */
export interface DnsHealth {
  ok: boolean;
  status: 'ok' | 'degraded' | 'failing';
  /** One line each: what is wrong and what it costs. */
  problems: string[];
}

/** Answers a `delay` fault may hold at once, and their bytes (request and answer): past either, a delayed answer is dropped and counted. */
const MAX_DELAYED = 10_000;
const MAX_DELAYED_BYTES = 16 * 1024 * 1024;

const errorCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/** DNS over UDP and TCP (RFC 1035 §4.2; TCP pipelining, RFC 7766) for a set of zones. */
export class DnsServer {
  readonly #o: { listen: readonly string[]; port: number; maxTcpConnections: number; tcpIdleTimeoutMs: number; logger?: Logger };
  readonly #udp: UdpSocket[] = [];
  readonly #tcp: Server[] = [];
  readonly #connections = new Set<Socket>();
  readonly #tcpRules: TcpConnections;
  readonly #ctx: ServerContext;
  readonly #log: QueryLog | null;
  readonly faults: FaultSet;
  /** Counters for /metrics. */
  readonly #stats = new DnsStats();
  /** The injected clock (`now` option), for the log's times too; by default the time the performance clock read anyway. */
  readonly #clock: (() => number) | undefined;
  /** Every query is written into this one record, then copied into the log's columns: no allocation per query. */
  readonly #scratch = emptyRecord();
  /** Read once: `performance.timeOrigin` is a getter, and the log's times add it to every query's clock reading. */
  readonly #timeOrigin = performance.timeOrigin;
  #port = 0;
  /** Answers held by a delay fault: cancelled by close(), bounded in count and bytes. */
  readonly #delayed = new Set<NodeJS.Timeout>();
  #delayedBytes = 0;
  #closed = false;
  /** The origin of the zone whose last save failed, until a save works again. */
  #saveFailure: string | null = null;
  readonly #saveZone: ((zone: Zone, change?: ZoneChange) => void) | undefined;
  readonly #keys = new Map<string, KeyPolicy>();
  #notifier: Notifier | null = null;
  #notifyKey: TsigKey | null = null;
  readonly #secondaries = new Map<string, SecondaryZone>();
  /** When the next scavenging pass is due (the server's clock). */
  #nextScavenge: number;

  private constructor(o: DnsServerOptions) {
    this.#o = {
      listen: o.listen?.length ? [...new Set(o.listen)] : ['::'],
      port: o.port ?? 53,
      maxTcpConnections: o.maxTcpConnections ?? 1000,
      tcpIdleTimeoutMs: o.tcpIdleTimeoutMs ?? 30_000,
      logger: o.logger,
    };
    // RFC 7766 §6.2: the server manages its connections; a query's bytes have the idle timeout
    // from their first byte, and at the cap the connection used longest ago makes room.
    this.#tcpRules = new TcpConnections({
      maxConnections: this.#o.maxTcpConnections,
      idleTimeoutMs: this.#o.tcpIdleTimeoutMs,
      messageTimeoutMs: this.#o.tcpIdleTimeoutMs,
    });
    this.#log = o.queryLog === undefined ? new QueryLog() : o.queryLog;
    this.#clock = o.now;
    this.#saveZone = o.saveZone;
    this.faults = o.faults ?? new FaultSet({ random: o.seed === undefined ? Math.random : seededRandom(o.seed), now: o.now ?? Date.now });
    for (const k of o.keys ?? []) this.#keys.set(k.key.name, k);
    this.#ctx = {
      faults: this.faults,
      zones: o.zones,
      keys: this.#keys,
      now: o.now ?? Date.now,
      saveZone: o.saveZone && ((zone, change) => this.#save(zone, change)),
      onEvent: (e) => o.logger?.info(e, String(e.event)),
      cache: o.cache === false ? undefined : new AnswerCache(),
      replays: new ReplayGuard(),
      ownership: o.ownership ?? new Ownership(),
      aging: o.aging ?? new Aging(),
      allowTransfer: o.allowTransfer,
      onZoneChanged: (zone) => void this.#notifier?.notify(zone),
      secondaries: this.#secondaries,
    };
    this.#notifyKey = o.notify?.key ?? null;
    for (const target of o.notify?.targets ?? []) this.notifyAlso(target);
    this.#nextScavenge = (o.now ?? Date.now)() + this.#ctx.aging!.periodMs;
  }

  /** A server built and listening (create, then listen). */
  static async start(options: DnsServerOptions): Promise<DnsServer> {
    return DnsServer.create(options).listen();
  }

  /**
   * A server built but not listening: its zones, keys and harness in place,
   * so a caller can wire it up (an admin listener, a journal) before the
   * first query can arrive, then `listen()`; or ask it `answer()` directly.
   */
  static create(options: DnsServerOptions): DnsServer {
    return new DnsServer(options);
  }

  /** Opens its UDP and TCP sockets; on failure closes what it opened and throws KMSLAB_LISTEN_FAILED. */
  async listen(): Promise<this> {
    try {
      await this.#listenAll();
    } catch (err) {
      await this.close();
      throw err;
    }
    return this;
  }

  /**
   * The answer to one message, as the sockets would send it (several
   * messages for a zone transfer; null: no answer), with the query path's
   * every step but the query log and a fault's delay. Never throws: what
   * fuzzing and in-process checks call.
   */
  answer(raw: Buffer, transport: 'udp' | 'tcp' = 'udp', client: { address: string; port: number } = { address: '127.0.0.1', port: 0 }): Buffer | Buffer[] | null {
    const out = handleMessage(raw, transport, this.#ctx, client);
    this.#stats.count(out, transport, 0);
    return out.bytes;
  }

  get port(): number {
    return this.#port;
  }

  /**
   * What `/healthz` reports: `failing` while updates cannot be saved (until a
   * save works again: asked here, by saving what is served, so health comes
   * back by itself once there is room), `degraded` while the query log file
   * loses lines, else `ok`.
   */
  health(): DnsHealth {
    const problems: string[] = [];
    let status: DnsHealth['status'] = 'ok';
    const failed = this.#saveFailure;
    if (failed) {
      const zone = this.#ctx.zones.get(failed);
      try {
        if (zone) this.#saveZone!(zone);
        this.#saveFailure = null;
      } catch (err) {
        status = 'failing';
        problems.push(`zone ${failed} cannot be saved (${errorCode(err)}): dynamic updates are refused with SERVFAIL`);
      }
    }
    const log = this.#log?.fileProblem();
    if (log) {
      if (status === 'ok') status = 'degraded';
      problems.push(log);
    }
    return { ok: status !== 'failing', status, problems };
  }

  /** Adds a TSIG key with its grants (a host joining a lab); a key of the same name is replaced. */
  addKey(policy: KeyPolicy): void {
    this.#keys.set(policy.key.name, policy);
  }

  /** Aging zones, their intervals and the scavenging period. */
  get aging(): Aging {
    return this.#ctx.aging!;
  }

  /**
   * A scavenging pass (zone/aging.ts): every stale record of every aging zone
   * is deleted — each zone saved before it is served, as an update is — and
   * listed; `dryRun` only lists them. Runs by itself every period
   * (`scavengeIfDue`), or when asked (`kmslab dns scavenge`, POST /scavenge).
   */
  scavenge(options: { dryRun?: boolean } = {}): ScavengedRecord[] {
    const now = this.#ctx.now();
    const aging = this.#ctx.aging!;
    const removed: ScavengedRecord[] = [];
    for (const served of this.#ctx.zones.list()) {
      const stale = aging.stale(served, now);
      if (stale.length === 0) continue;
      if (!options.dryRun) {
        const copy = served.clone();
        for (const s of stale) copy.delete(s.record.name, s.record.type, s.record.data, { bumpSerial: false });
        copy.bumpSerial();
        const names = stale.map((s) => s.record.name);
        copy.recordChangeFrom(served, names);
        if (this.#saveZone) this.#save(copy, { from: served.serial, names });
        served.takeOver(copy);
        this.#ctx.onZoneChanged?.(served);
        for (const s of stale) this.#o.logger?.info({ event: 'scavenged', zone: s.zone, name: s.record.name, type: s.record.type, refreshedAt: new Date(s.refreshedAt).toISOString() }, 'stale record scavenged');
      }
      removed.push(...stale);
    }
    if (!options.dryRun) this.#nextScavenge = now + aging.periodMs;
    return removed;
  }

  /** A scavenging pass when one is due on the server's clock (and some zone ages); what it removed. */
  scavengeIfDue(): ScavengedRecord[] {
    if (!this.#ctx.aging!.active || this.#ctx.now() < this.#nextScavenge) return [];
    return this.scavenge();
  }

  /** Secure zones, groups and grants: who may change an owned name (the admin API's `/grants`). */
  get ownership(): Ownership {
    return this.#ctx.ownership!;
  }

  /** The zones it answers for (what the admin API's `/zones` shows). */
  get zones(): ZoneSet {
    return this.#ctx.zones;
  }

  /** Answers a `delay` fault holds now (0 once closed: close() cancels them). */
  get delayedAnswers(): number {
    return this.#delayed.size;
  }

  /** Prometheus text for `/metrics` (docs/metrics.md "DNS server"). */
  metrics(): string {
    const log = this.#log;
    const followers = log?.followers();
    return this.#stats.prometheus(log && followers ? { linesDropped: log.fileDropped, followers: followers.size, followersDropped: followers.dropped } : null, this.#connections.size);
  }

  /** What the server received and answered (null when the log is off). */
  get queryLog(): QueryLog | null {
    return this.#log;
  }

  get addresses(): string[] {
    return this.#udp.map((s) => s.address().address);
  }

  #save(zone: Zone, change?: ZoneChange): void {
    try {
      this.#saveZone!(zone, change);
      this.#saveFailure = null;
    } catch (err) {
      this.#saveFailure = zone.origin;
      this.#stats.zoneSaveFailures++;
      this.#o.logger?.error({ event: 'zone-save-failed', zone: zone.origin, error: errorCode(err) }, `cannot save zone ${zone.origin} (${errorCode(err)}): the update is refused (SERVFAIL) and the zone served as it was`);
      throw err;
    }
  }

  /**
   * Follows `zone` from `primary` as its secondary (secondary.ts): the zone is
   * SERVFAIL until the first transfer, which `start()` tries; changes are
   * passed on to this server's own secondaries (`--notify`).
   */
  follow(zone: string, primary: DnsTarget, key: TsigKey | null = null, options: { clockTimers?: boolean } = {}): SecondaryZone {
    const s = new SecondaryZone(canonicalName(zone), primary, { zones: this.#ctx.zones, key, now: this.#ctx.now, logger: this.#o.logger, onChanged: (z) => this.#ctx.onZoneChanged?.(z), clockTimers: options.clockTimers });
    this.#secondaries.set(s.zone, s);
    return s;
  }


  /** The zones this server follows, with their state. */
  get secondaries(): SecondaryZone[] {
    return [...this.#secondaries.values()];
  }

  /** The secondaries told of changes (`--notify`), null when none. */
  get notifier(): Notifier | null {
    return this.#notifier;
  }

  /** Tells `target` of every change from now on, as `--notify` does (a secondary started after this server). */
  notifyAlso(target: DnsTarget): void {
    if (this.#notifier) {
      this.#notifier.addTarget(target);
      return;
    }
    this.#notifier = new Notifier({
      targets: [target], key: this.#notifyKey, now: this.#ctx.now, logger: this.#o.logger,
      // A notify-drop fault on the zone (docs/dns-faults.md) loses the NOTIFY, as a dropped packet would.
      drop: (zone) => this.faults.match({ name: zone, type: TYPE.SOA, address: '', transport: 'udp', update: false, replication: true })?.action.kind === 'notify-drop',
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#notifier?.close();
    for (const s of this.#secondaries.values()) s.close();
    // What a delay fault still holds is never sent: the sockets are going.
    for (const t of this.#delayed) clearTimeout(t);
    this.#delayed.clear();
    this.#delayedBytes = 0;
    for (const s of this.#udp) s.close();
    for (const c of this.#connections) c.destroy();
    this.#tcpRules.close();
    this.#log?.close();
    await Promise.all(this.#tcp.map((s) => new Promise((r) => s.close(r))));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #listenAll(): Promise<void> {
    const wanted = this.#o.port;
    for (let attempt = 0; ; attempt++) {
      try {
        let port = wanted;
        for (const address of this.#o.listen) port = await this.#listenOne(address, port);
        this.#port = port;
        return;
      } catch (err) {
        // Port 0: the TCP port the kernel picked may be taken for UDP; try another.
        if (wanted !== 0 || attempt >= 5 || (err as KmsLabError).code !== 'KMSLAB_LISTEN_FAILED') throw err;
        await this.close();
        this.#udp.length = 0;
        this.#tcp.length = 0;
      }
    }
  }

  async #listenOne(address: string, port: number): Promise<number> {
    const v6 = address.includes(':');
    const tcp = createServer((socket) => this.#acceptTcp(socket));
    const tcpPort = await new Promise<number>((resolve, reject) => {
      tcp.once('error', (err) => reject(listenFailed('DNS server (TCP)', address, port, err)));
      tcp.listen({ host: address, port, ipv6Only: false, backlog: 4096 }, () => resolve((tcp.address() as { port: number }).port));
    });
    tcp.removeAllListeners('error');
    tcp.on('error', (err) => this.#o.logger?.error({ err }, 'DNS TCP listener error'));
    this.#tcp.push(tcp);
    const udp = createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: false, lookup: literalAddress });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', (err) => reject(listenFailed('DNS server (UDP)', address, tcpPort, err)));
      udp.bind({ address, port: tcpPort }, () => resolve());
    });
    udp.removeAllListeners('error');
    udp.on('error', (err) => this.#o.logger?.warn({ err }, 'DNS UDP socket error'));
    udp.on('message', (msg, rinfo) => {
      const started = performance.now();
      const out = handleMessage(msg, 'udp', this.#ctx, rinfo);
      // No closure on the fast path: only a delayed answer needs one.
      if (out.delayMs) this.#later(() => this.#sendUdp(udp, msg, out, rinfo, started), out.delayMs, msg, out, 'udp', rinfo, started);
      else this.#sendUdp(udp, msg, out, rinfo, started);
    });
    this.#udp.push(udp);
    return tcpPort;
  }

  #sendUdp(udp: UdpSocket, msg: Buffer, out: Handled, rinfo: Client, started: number): void {
    if (this.#closed) return;
    if (Buffer.isBuffer(out.bytes)) udp.send(out.bytes, rinfo.port, rinfo.address);
    this.#record(msg, out, 'udp', rinfo, started);
  }

  /** Sends a delayed answer after `ms`; beyond MAX_DELAYED (or its bytes) it is dropped, counted and logged as such. */
  #later(send: () => void, ms: number, raw: Buffer, out: Handled, transport: 'udp' | 'tcp', client: Client, started: number): void {
    const bytes = raw.length + (Buffer.isBuffer(out.bytes) ? out.bytes.length : 0);
    if (this.#delayed.size >= MAX_DELAYED || this.#delayedBytes + bytes > MAX_DELAYED_BYTES) {
      this.#stats.delayedDropped++;
      this.#record(raw, { ...out, bytes: null, rcode: null, kind: 'dropped' }, transport, client, started);
      return;
    }
    this.#delayedBytes += bytes;
    const timer = setTimeout(() => {
      this.#delayed.delete(timer);
      this.#delayedBytes -= bytes;
      send();
    }, ms);
    timer.unref();
    this.#delayed.add(timer);
  }

  #record(raw: Buffer, out: Handled, transport: 'udp' | 'tcp', client: Client, started: number): void {
    const finished = performance.now();
    const latencyMs = finished - started;
    this.#stats.count(out, transport, latencyMs);
    // The arrival time from the clock already read (a second clock read per query shows in profiles); an injected clock wins.
    if (this.#log) this.#log.record(fillRecord(this.#scratch, raw, out, transport, client, this.#clock ? this.#clock() : this.#timeOrigin + started, latencyMs));
  }

  /** Length-prefixed messages (RFC 1035 §4.2.2), answered in order, pipelined. */
  #acceptTcp(socket: Socket): void {
    socket.on('error', () => {});
    if (!this.#tcpRules.admit(socket)) return;
    this.#connections.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.#connections.delete(socket));
    const client = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    let pending: Buffer | null = null;
    socket.on('data', (chunk: Buffer) => {
      let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = null;
      let o = 0;
      let whole = 0;
      while (buf.length - o >= 2) {
        const len = buf.readUInt16BE(o);
        if (buf.length - o - 2 < len) break;
        const started = performance.now();
        const raw = buf.subarray(o + 2, o + 2 + len);
        const out = handleMessage(raw, 'tcp', this.#ctx, client);
        o += 2 + len;
        whole++;
        if (!out.bytes && !out.fault) {
          // A TCP peer sending garbage or responses gets no more of our time.
          this.#record(raw, out, 'tcp', client, started);
          socket.destroy();
          return;
        }
        // A delayed answer keeps its own copy of the request, not the whole chunk it came in.
        const request = out.delayMs ? Buffer.from(raw) : raw;
        const send = () => {
          for (const message of Array.isArray(out.bytes) ? out.bytes : out.bytes ? [out.bytes] : []) {
            const framed = Buffer.allocUnsafe(2 + message.length);
            framed.writeUInt16BE(message.length, 0);
            message.copy(framed, 2);
            if (!socket.destroyed) socket.write(framed);
          }
          this.#record(request, out, 'tcp', client, started);
        };
        // A delayed answer leaves later; pipelined answers after it need not wait (RFC 7766 §6.2.1.1: matched by id).
        if (out.delayMs) this.#later(send, out.delayMs, request, out, 'tcp', client, started);
        else send();
      }
      if (o < buf.length) pending = Buffer.from(buf.subarray(o));
      this.#tcpRules.received(socket, whole, pending !== null);
      if (whole > 0) this.#tcpRules.wrote(socket);
    });
  }
}
