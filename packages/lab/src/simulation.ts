import { COUNT_WINDOW_MS, Catalog, MAX_CLIENT_RECORDS, TIME, VirtualClock, waitFor, type Clock } from '@kmslab/core';
import { activateOnce, dueIn, newClientState, seededRandom, statusAt, type ClientState } from '@kmslab/client';
import type { ResourceRecord } from '@kmslab/dns-wire';
import { InProcessDns, ProcessDns, type LabDns } from './lab-dns.js';
import { InProcessHost, ProcessHost, type LabHost, type SimHostOptions } from './lab-hosts.js';
import { RedisServer } from './live/redis-server.js';
import type { Check } from './scenarios/check.js';
import { CLIENT_STATES, type ClientStateName } from './report/report-data.js';

/** Minutes between client-state samples (reports). */
export const SAMPLE_STEP_MIN = 60;

/** One line of the narrated timeline. */
export interface TimelineEntry {
  /** Virtual minutes since the start. */
  minute: number;
  client: string;
  product: string;
  count: number | null;
  threshold: number;
  licensed: boolean;
  /** How the client was licensed, when it was: by the KMS count or by its MAK. */
  via: 'kms' | 'mak' | null;
  errorCode: string | null;
  /** Why the hosts tried did not answer (e.g. KMSLAB_HOST_UNAVAILABLE behind 0xC004F074), if they did not. */
  reason: string | null;
  /** The host that answered (HOST:PORT as the client names it), if any. */
  host: string | null;
}

interface SimClient {
  name: string;
  /** The machine's clock runs this far from the lab's (clock-jump events). */
  skewMs: number;
  productId: string;
  state: ClientState;
  joinAt: number;
  /** When the machine leaves the network (no more contacts). */
  leaveAt: number | null;
  /** Finds its host through the lab DNS instead of a manual host. */
  dns: boolean;
}

/** A simulation's seed, store and whether it runs live processes. */
export interface SimulationOptions {
  /** Lab time at minute 0. */
  start?: number;
  /** Drives SRV weighting, so a run repeats exactly. */
  seed?: number;
  /** In-process store: memory (default) or Redis, a redis-server of the lab's own (Redis events need it). */
  store?: 'memory' | 'redis';
  /**
   * Run hosts and DNS as kmslab processes on loopback with a redis-server
   * (`kmslab lab run --live`): `kmslab` is the command that starts kmslab,
   * e.g. [process.execPath, '…/packages/cli/dist/bin.js'].
   */
  live?: { kmslab: readonly string[] };
  /**
   * Waits until lab time may reach `at` (ms) before each contact: a run
   * watched on the dashboard (`lab run --dashboard`) is paced by a LabClock
   * (speed, pause, jumps). None: contacts follow each other at once.
   */
  pace?: (at: number) => Promise<void>;
}

/**
 * Real host and client code on one virtual clock. In-process (default) the
 * hosts are KmsHosts on loopback ports on the lab's clock; live, they are
 * `kmslab host start` processes with a Redis store whose clocks the runner
 * sets over their admin listeners before each contact. Clients are the
 * client library's state and `activateOnce`, in this process. Contacts happen
 * in time order; nothing sleeps.
 */
export class Simulation implements AsyncDisposable {
  readonly clock: VirtualClock;
  readonly timeline: TimelineEntry[] = [];
  /** What happened besides contacts (hosts down and up, SRV changes…), for reports. */
  readonly events: Array<{ minute: number; label: string }> = [];
  /** Clients in each state every SAMPLE_STEP_MIN minutes from minute 0. */
  readonly states = Object.fromEntries(CLIENT_STATES.map((s) => [s, [] as number[]])) as Record<ClientStateName, number[]>;
  readonly #start: number;
  readonly #clients: SimClient[] = [];
  readonly #catalog = Catalog.load();
  readonly #hosts: LabHost[] = [];
  readonly #random: () => number;
  readonly #options: SimulationOptions;
  #dns: LabDns | null = null;
  #redis: RedisServer | null = null;

  constructor(options: SimulationOptions = {}) {
    const start = options.start ?? Date.UTC(2026, 0, 5, 8);
    this.#options = options;
    this.#random = seededRandom(options.seed ?? 1);
    this.clock = new VirtualClock(start);
    this.#start = start;
  }

  get live(): boolean {
    return Boolean(this.#options.live);
  }

  /** Where the hosts keep their counts. */
  get store(): 'memory' | 'redis' {
    return this.live ? 'redis' : (this.#options.store ?? 'memory');
  }

  /** Starts the lab's DNS for `zone`; hosts started afterwards are in it (in-process: added; live: they publish themselves). */
  async useDns(zone = 'lab.test'): Promise<void> {
    this.#dns = this.#options.live ? await ProcessDns.start(this.#options.live.kmslab, zone) : await InProcessDns.start(zone);
  }

  async #redisUrl(): Promise<string | null> {
    if (this.store !== 'redis') return null;
    this.#redis ??= await RedisServer.start();
    return this.#redis.url;
  }

  async startHost(options: SimHostOptions = {}): Promise<LabHost> {
    const name = options.name ?? 'lab-host';
    const redisUrl = await this.#redisUrl();
    const live = this.#options.live;
    const dns = this.#dns instanceof ProcessDns ? { server: this.#dns.server, zone: this.#dns.zone, tsigKey: this.#dns.tsigKey } : undefined;
    const h: LabHost = live ? new ProcessHost(name, options, this.clock, { kmslab: live.kmslab, redisUrl: redisUrl!, dns }) : new InProcessHost(name, options, this.clock, redisUrl);
    await h.start();
    this.#hosts.push(h);
    await this.#dns?.hostStarted(name, h.port, options.priority ?? 0, options.weight ?? 0);
    return h;
  }

  /** Removes every `_vlmcs._tcp` SRV record from the lab zone (what a misconfigured DNS does); returns them for `restoreSrv`. */
  async removeSrv(): Promise<ResourceRecord[]> {
    if (!this.#dns) throw new Error('useDns() first');
    this.note('SRV removed');
    return this.#dns.removeSrv();
  }

  async restoreSrv(records: readonly ResourceRecord[]): Promise<void> {
    this.note('SRV restored');
    await this.#dns?.restoreSrv(records);
  }

  /** A DNS fault switched on (docs/dns-faults.md), noted in the timeline; its id for `removeDnsFault`. */
  async addDnsFault(rule: string): Promise<string> {
    if (!this.#dns) throw new Error('useDns() first');
    const id = await this.#dns.addFault(rule);
    this.note(`DNS fault on: ${rule}`);
    return id;
  }

  async removeDnsFault(id: string, rule: string): Promise<void> {
    await this.#dns?.removeFault(id);
    this.note(`DNS fault off: ${rule}`);
  }

  /** The host goes down (its counts stay in its store). */
  async stopHost(name: string): Promise<void> {
    this.note(`${name} down`);
    await this.#findHost(name).stop();
  }

  /** The host comes back on the same port with the same counts. */
  async restartHost(name: string): Promise<void> {
    this.note(`${name} up`);
    const h = this.#findHost(name);
    await h.start();
    await this.#dns?.hostStarted(name, h.port, h.options.priority ?? 0, h.options.weight ?? 0);
  }

  /** Redis stops (clients hear "host unavailable" until it is back); needs the Redis store. */
  async stopRedis(): Promise<void> {
    if (!this.#redis) throw new Error('Redis events need the Redis store (store: redis, or --live)');
    this.note('Redis down');
    await this.#redis.stop();
    await this.#waitForHosts(false);
  }

  /** Redis comes back with everything it acknowledged (append-only file, fsync always); resolves once every running host can write again. */
  async startRedis(): Promise<void> {
    if (!this.#redis) throw new Error('Redis events need the Redis store (store: redis, or --live)');
    this.note('Redis up');
    await this.#redis.resume();
    await this.#waitForHosts(true);
  }

  /** Hosts notice Redis leaving and coming back on their own time; the lab waits, so runs repeat exactly. */
  async #waitForHosts(healthy: boolean): Promise<void> {
    for (const h of this.#hosts.filter((x) => x.running)) {
      await waitFor(async () => (await h.status()).store.healthy === healthy, {
        timeoutMs: 15_000,
        everyMs: 20,
        timedOut: () => new Error(`host ${h.name} did not see Redis ${healthy ? 'back' : 'gone'} within 15 s`),
      });
    }
  }

  /** The host's clock jumps by `ms` (negative: back), as after a bad time sync. */
  jumpHostClock(name: string, ms: number): void {
    this.note(`${name} clock ${ms >= 0 ? '+' : ''}${ms / TIME.MINUTE_MS} min`);
    this.#findHost(name).skewMs += ms;
  }

  /** These machines' clocks jump by `ms`; a client more than 4 h off its host's time is refused (0xC004F06C). */
  jumpClientClocks(names: readonly string[], ms: number, label = `${names.length} client(s)`): void {
    this.note(`${label} clock ${ms >= 0 ? '+' : ''}${ms / TIME.MINUTE_MS} min`);
    for (const n of names) {
      const c = this.#find(n);
      c.skewMs += ms;
      // The next contact is a timer (elapsed time), so it moves with the clock.
      if (c.state.nextContactAt) c.state.nextContactAt = new Date(Date.parse(c.state.nextContactAt) + ms).toISOString();
    }
  }

  #findHost(name: string): LabHost {
    const h = this.#hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** The first host (or the one named), running. */
  hostNamed(name?: string): LabHost {
    const h = name ? this.#findHost(name) : this.#hosts[0];
    if (!h?.running) throw new Error(`host ${name ?? ''} is not running`);
    return h;
  }

  /** The lab host an address from the timeline (HOST:PORT, as the client named it) points at: hosts keep their port across restarts. */
  hostAt(address: string | null): LabHost | undefined {
    const port = Number(address?.split(':').pop());
    return this.#hosts.find((h) => h.port === port);
  }

  get host(): LabHost {
    return this.hostNamed();
  }

  /** A client machine that joins at `minute` (virtual minutes from the start) and then follows the KMS client schedule. */
  addClient(name: string, productId: string, minute: number, options: { dns?: boolean } = {}): void {
    const dns = options.dns ?? false;
    if (dns && !this.#dns) throw new Error('useDns() first');
    const state = { ...newClientState(), manualHost: dns ? null : `127.0.0.1:${this.#hosts[0]!.port}` };
    this.#clients.push({ name, productId, state, skewMs: 0, joinAt: this.#start + minute * TIME.MINUTE_MS, leaveAt: null, dns });
  }

  /** The machine leaves the network at `minute`: it never contacts a host again. */
  removeClient(name: string, minute: number): void {
    this.#find(name).leaveAt = this.#start + minute * TIME.MINUTE_MS;
  }

  /** Names of the clients still on the network. */
  clientNames(): string[] {
    return this.#clients.filter((c) => c.leaveAt === null || c.leaveAt > this.clock.now()).map((c) => c.name);
  }

  #find(name: string): SimClient {
    const c = this.#clients.find((x) => x.name === name);
    if (!c) throw new Error(`no client ${name}`);
    return c;
  }

  client(name: string): ClientState {
    return this.#find(name).state;
  }

  /** Runs every contact due up to `minute`, in time order. */
  async runUntil(minute: number): Promise<void> {
    const until = this.#start + minute * TIME.MINUTE_MS;
    for (;;) {
      let next: { client: SimClient; at: number } | null = null;
      for (const c of this.#clients) {
        // The client keeps its schedule on its own clock.
        const at = c.state.installedAt ? this.clock.now() + dueIn(c.state, this.clock.now() + c.skewMs) : c.joinAt;
        if (c.leaveAt !== null && at >= c.leaveAt) continue;
        if (at <= until && (!next || at < next.at)) next = { client: c, at };
      }
      if (!next) break;
      await this.#options.pace?.(next.at);
      this.#sampleStates(next.at - 1);
      this.clock.set(Math.max(this.clock.now(), next.at));
      await this.#contact(next.client);
    }
    await this.#options.pace?.(until);
    this.#sampleStates(until);
    this.clock.set(Math.max(this.clock.now(), until));
  }

  /** The hosts started so far (running or not), in order. */
  get hosts(): readonly LabHost[] {
    return this.#hosts;
  }

  /** Each client's license state now, counted (the dashboard's fleet view). */
  fleet(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of this.#clients) {
      const s = c.state.installedAt ? c.state.licenseStatus : 'not joined';
      counts[s] = (counts[s] ?? 0) + 1;
    }
    return counts;
  }

  /**
   * "No acknowledged activation is lost": every client a host answered with a
   * count in the last 30 days is still counted by that host (at most 50 per
   * family), whatever went down in between.
   */
  async acknowledgedCheck(): Promise<Check> {
    const since = this.minute - COUNT_WINDOW_MS / TIME.MINUTE_MS;
    const problems: string[] = [];
    let checked = 0;
    for (const h of this.#hosts.filter((x) => x.running)) {
      const acknowledged = new Map<string, Set<string>>();
      for (const e of this.timeline) {
        if (e.count === null || e.minute < since || this.hostAt(e.host) !== h) continue;
        const family = this.#catalog.product(e.product).family;
        acknowledged.set(family, (acknowledged.get(family) ?? new Set()).add(e.client));
      }
      const status = await h.status();
      for (const [family, clients] of acknowledged) {
        const expected = Math.min(MAX_CLIENT_RECORDS, clients.size);
        const counted = status.families[family]?.currentCount ?? 0;
        checked += clients.size;
        if (counted !== expected) problems.push(`${h.name} ${family}: ${expected} acknowledged, ${counted} counted`);
      }
    }
    return { name: 'no acknowledged activation lost: every client a host answered in the last 30 days is still counted', passed: problems.length === 0, detail: problems.join('; ') || `${checked} acknowledged clients, all counted` };
  }

  /** Virtual minutes since the start. */
  get minute(): number {
    return Math.round((this.clock.now() - this.#start) / TIME.MINUTE_MS);
  }

  /** Notes something that happened now on the report's timeline. */
  note(label: string): void {
    this.events.push({ minute: this.minute, label });
  }

  #sampleStates(upTo: number): void {
    for (let i = this.states.licensed.length; this.#start + i * SAMPLE_STEP_MIN * TIME.MINUTE_MS <= upTo; i++) {
      const t = this.#start + i * SAMPLE_STEP_MIN * TIME.MINUTE_MS;
      const n: Record<ClientStateName, number> = { grace: 0, licensed: 0, notification: 0, left: 0 };
      for (const c of this.#clients) {
        if (c.leaveAt !== null && c.leaveAt <= t) n.left++;
        else if (c.state.installedAt && Date.parse(c.state.installedAt) <= t) {
          const s = statusAt(c.state, t);
          n[s === 'licensed' ? 'licensed' : s === 'notification' ? 'notification' : 'grace']++;
        }
      }
      for (const s of CLIENT_STATES) this.states[s].push(n[s]);
    }
  }

  async #contact(c: SimClient): Promise<void> {
    const dns = c.dns && this.#dns ? { dns: this.#dns.target, domains: [this.#dns.zone] } : { domains: [] };
    for (const h of this.#hosts) await h.syncClock(this.clock.now());
    const clock: Clock = c.skewMs ? { now: () => this.clock.now() + c.skewMs } : this.clock;
    let failure: string | null = null;
    const outcome = await activateOnce({ state: c.state, productId: c.productId, clock, random: this.#random, connectTimeoutMs: 500, ...dns }).catch((err: unknown) => {
      failure = (err as { code?: string }).code ?? 'error'; // a setting the client cannot use (DNS failures come back as outcomes)
      return null;
    });
    // An attempt that threw before scheduling must not be retried at the same instant forever.
    if (dueIn(c.state, clock.now()) === 0) c.state.nextContactAt = new Date(clock.now() + 2 * 60 * TIME.MINUTE_MS).toISOString();
    if (!outcome) {
      const threshold = this.#catalog.product(c.productId).threshold;
      this.timeline.push({ minute: this.minute, client: c.name, product: c.productId, count: null, threshold, licensed: false, via: null, errorCode: failure, reason: null, host: null });
      return;
    }
    const r = outcome.response;
    this.timeline.push({
      minute: this.minute,
      client: c.name,
      product: c.productId,
      count: r?.count ?? null,
      threshold: r?.threshold ?? this.#catalog.product(c.productId).threshold,
      licensed: r?.licensed ?? Boolean(outcome.mak),
      via: outcome.mak ? 'mak' : r?.licensed ? 'kms' : null,
      errorCode: outcome.errorCode,
      reason: [outcome.tried[0]?.error.split(':')[0] ?? null].find((r) => r !== outcome.errorCode) ?? null,
      host: outcome.host,
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const h of this.#hosts) await h.close();
    await this.#dns?.close();
    await this.#redis?.[Symbol.asyncDispose]();
  }
}

/** A lab minute as `day N HH:MM`. */
export function formatMinute(minute: number): string {
  const d = Math.floor(minute / 1440);
  const h = Math.floor((minute % 1440) / 60);
  const m = minute % 60;
  return `${d > 0 ? `day ${d} ` : ''}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}
