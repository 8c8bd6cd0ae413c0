import { Catalog, EventLog, TIME, VirtualClock } from '@kmslab/core';
import { dueIn, newClientState, seededRandom, type ClientState } from '@kmslab/client';
import type { ResourceRecord } from '@kmslab/dns-wire';
import type { SimHost, SimHostOptions } from './lab-hosts.js';
import type { ClientStateName } from './report/report-data.js';
import type { Check } from './scenarios/check.js';
import { acknowledgedCheck } from './simulation/acknowledged-check.js';
import { contact } from './simulation/contact.js';
import { LabTopology, type LabDnsOptions } from './simulation/lab-topology.js';
import type { SimClient, TimelineEntry } from './simulation/sim-client.js';
import { StateSamples } from './simulation/state-samples.js';

export { SAMPLE_STEP_MIN } from './simulation/state-samples.js';
export type { TimelineEntry } from './simulation/sim-client.js';

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
 * in time order; nothing sleeps. The parts: the lab it runs on
 * (simulation/lab-topology.ts), one contact (contact.ts), the report's state
 * samples (state-samples.ts), the acknowledged-count check
 * (acknowledged-check.ts); this class is the clients and their schedule.
 */
export class Simulation implements AsyncDisposable {
  readonly clock: VirtualClock;
  readonly timeline: TimelineEntry[] = [];
  /** What happened besides contacts (hosts down and up, SRV changes…), for reports. */
  readonly events: Array<{ minute: number; label: string }> = [];
  /** The Windows events the lab's hosts and clients logged (12288-12290; the newest 10,000), on the lab clock. */
  readonly kmsEvents: EventLog;
  readonly #start: number;
  readonly #clients: SimClient[] = [];
  readonly #catalog = Catalog.load();
  readonly #random: () => number;
  readonly #options: SimulationOptions;
  /** The lab's DNS, hosts and Redis (simulation/lab-topology.ts). */
  readonly #lab: LabTopology;
  readonly #samples: StateSamples;

  constructor(options: SimulationOptions = {}) {
    const start = options.start ?? Date.UTC(2026, 0, 5, 8);
    this.#options = options;
    this.#random = seededRandom(options.seed ?? 1);
    this.clock = new VirtualClock(start);
    this.#start = start;
    this.#samples = new StateSamples(start);
    this.kmsEvents = new EventLog(10_000, () => this.clock.now());
    this.#lab = new LabTopology({ clock: this.clock, live: options.live, store: this.store, note: (label) => this.note(label), events: this.kmsEvents });
  }

  get live(): boolean {
    return Boolean(this.#options.live);
  }

  /** Where the hosts keep their counts. */
  get store(): 'memory' | 'redis' {
    return this.live ? 'redis' : (this.#options.store ?? 'memory');
  }

  /** Clients in each state every SAMPLE_STEP_MIN minutes from minute 0. */
  get states(): Record<ClientStateName, number[]> {
    return this.#samples.states;
  }

  // ---- the lab: DNS, hosts, Redis (simulation/lab-topology.ts); each change noted for the report

  /**
   * Starts the lab's DNS for `zone`; hosts started afterwards are in it
   * (in-process: added; live, or a `secure` or `aging` zone: they publish
   * themselves, refreshing daily on the lab clock).
   */
  useDns(zone = 'lab.test', options: LabDnsOptions = {}): Promise<void> {
    return this.#lab.useDns(zone, options);
  }

  /** Grants a group of hosts on a name of the secure zone, as an AD admin does for a second KMS host (noted on the timeline). */
  grantDns(group: string, hosts: readonly string[], name: string): void {
    this.#lab.grantDns(group, hosts, name);
  }

  startHost(options: SimHostOptions = {}): Promise<SimHost> {
    return this.#lab.startHost(options);
  }

  /** Removes every `_vlmcs._tcp` SRV record from the lab zone (what a misconfigured DNS does); returns them for `restoreSrv`. */
  removeSrv(): Promise<ResourceRecord[]> {
    return this.#lab.removeSrv();
  }

  restoreSrv(records: readonly ResourceRecord[]): Promise<void> {
    return this.#lab.restoreSrv(records);
  }

  /** A DNS fault switched on (docs/dns-faults.md), noted in the timeline; its id for `removeDnsFault`. */
  addDnsFault(rule: string): Promise<string> {
    return this.#lab.addDnsFault(rule);
  }

  removeDnsFault(id: string, rule: string): Promise<void> {
    return this.#lab.removeDnsFault(id, rule);
  }

  /** The host goes down (its counts stay in its store). */
  stopHost(name: string): Promise<void> {
    return this.#lab.stopHost(name);
  }

  /** The host comes back on the same port with the same counts. */
  restartHost(name: string): Promise<void> {
    return this.#lab.restartHost(name);
  }

  /** Redis stops (clients hear "host unavailable" until it is back); needs the Redis store. */
  stopRedis(): Promise<void> {
    return this.#lab.stopRedis();
  }

  /** Redis comes back with everything it acknowledged (append-only file, fsync always); resolves once every running host can write again. */
  startRedis(): Promise<void> {
    return this.#lab.startRedis();
  }

  /** The host's clock jumps by `ms` (negative: back), as after a bad time sync. */
  jumpHostClock(name: string, ms: number): void {
    this.#lab.jumpHostClock(name, ms);
  }

  /** The first host (or the one named), running. */
  hostNamed(name?: string): SimHost {
    const h = name ? this.#lab.findHost(name) : this.#lab.hosts[0];
    if (!h?.running) throw new Error(`host ${name ?? ''} is not running`);
    return h;
  }

  /** The lab host an address from the timeline (HOST:PORT, as the client named it) points at: hosts keep their port across restarts. */
  hostAt(address: string | null): SimHost | undefined {
    return this.#lab.hostAt(address);
  }

  get host(): SimHost {
    return this.hostNamed();
  }

  /** The hosts started so far (running or not), in order. */
  get hosts(): readonly SimHost[] {
    return this.#lab.hosts;
  }

  // ---- the clients

  /** A client machine that joins at `minute` (virtual minutes from the start) and then follows the KMS client schedule. */
  addClient(name: string, productId: string, minute: number, options: { dns?: boolean; server?: number } = {}): void {
    const dns = options.dns ?? false;
    if (dns && !this.#lab.dns) throw new Error('useDns() first');
    if (options.server && !this.#lab.dns?.servers?.[options.server]) throw new Error(`no DNS server ${options.server}: useDns(zone, { secondaries }) first`);
    const state = { ...newClientState(), manualHost: dns ? null : `127.0.0.1:${this.#lab.hosts[0]!.port}` };
    this.#clients.push({ name, productId, state, skewMs: 0, joinAt: this.#start + minute * TIME.MINUTE_MS, leaveAt: null, dns, ...(options.server && { server: options.server }) });
  }

  /** The machine leaves the network at `minute`: it never contacts a host again. */
  removeClient(name: string, minute: number): void {
    this.#find(name).leaveAt = this.#start + minute * TIME.MINUTE_MS;
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

  /** Each client's license state now, counted (the dashboard's fleet view). */
  fleet(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of this.#clients) {
      const s = c.state.installedAt ? c.state.licenseStatus : 'not joined';
      counts[s] = (counts[s] ?? 0) + 1;
    }
    return counts;
  }

  // ---- the schedule

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
      this.#samples.sampleUpTo(next.at - 1, this.#clients);
      this.clock.set(Math.max(this.clock.now(), next.at));
      for (const h of this.#lab.hosts) await h.syncClock(this.clock.now());
      await this.#lab.dns?.tick?.();
      this.timeline.push(await contact(next.client, { clock: this.clock, wait: async (ms) => void this.clock.advance(ms), minute: this.minute, dns: this.#lab.dns, random: this.#random, catalog: this.#catalog, events: this.kmsEvents }));
    }
    await this.#options.pace?.(until);
    this.#samples.sampleUpTo(until, this.#clients);
    this.clock.set(Math.max(this.clock.now(), until));
    await this.#lab.dns?.tick?.();
  }

  // ---- what a run shows

  /** "No acknowledged activation is lost" (simulation/acknowledged-check.ts). */
  acknowledgedCheck(): Promise<Check> {
    return acknowledgedCheck({ hosts: this.#lab.hosts, timeline: this.timeline, minute: this.minute, catalog: this.#catalog, hostAt: (a) => this.#lab.hostAt(a) });
  }

  /** Virtual minutes since the start. */
  get minute(): number {
    return Math.round((this.clock.now() - this.#start) / TIME.MINUTE_MS);
  }

  /** Notes something that happened now on the report's timeline. */
  note(label: string): void {
    this.events.push({ minute: this.minute, label });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#lab[Symbol.asyncDispose]();
  }
}

/** A lab minute as `day N HH:MM`. */
export function formatMinute(minute: number): string {
  const d = Math.floor(minute / 1440);
  const h = Math.floor((minute % 1440) / 60);
  const m = minute % 60;
  return `${d > 0 ? `day ${d} ` : ''}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}
