import { Catalog, TIME, VirtualClock } from '@kmslab/core';
import { activateOnce, dueIn, newClientState, seededRandom, type ClientState } from '@kmslab/client';
import { CLASS, DnsServer, TYPE, ZoneSet, defaultZone, type ResourceRecord, type Zone } from '@kmslab/dns';
import { KmsHost, MemoryStore } from '@kmslab/host';

export interface SimHostOptions {
  name?: string;
  keyGroup?: string;
  licensePacks?: string[];
  makKeys?: Array<{ key: string; activations: number }>;
  /** SRV priority and weight when the lab has DNS (useDns). */
  priority?: number;
  weight?: number;
}

interface SimHost {
  name: string;
  store: MemoryStore;
  port: number;
  options: SimHostOptions;
  running: KmsHost | null;
}

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
  /** The host that answered (HOST:PORT as the client names it), if any. */
  host: string | null;
}

interface SimClient {
  name: string;
  productId: string;
  state: ClientState;
  joinAt: number;
  /** When the machine leaves the network (no more contacts). */
  leaveAt: number | null;
  /** Finds its host through the lab DNS instead of a manual host. */
  dns: boolean;
}

/**
 * Real host and client code on one virtual clock, in-process: the host is a
 * KmsHost on a loopback port with a memory store and the same clock; each
 * client is the client library's state and `activateOnce`. Contacts happen in
 * time order; nothing sleeps.
 */
export class Simulation implements AsyncDisposable {
  readonly clock: VirtualClock;
  readonly timeline: TimelineEntry[] = [];
  readonly #start: number;
  readonly #clients: SimClient[] = [];
  readonly #catalog = Catalog.load();
  readonly #hosts: SimHost[] = [];
  readonly #random: () => number;
  #dns: { server: DnsServer; zone: Zone } | null = null;

  /** `seed` drives SRV weighting, so a run repeats exactly. */
  constructor(options: { start?: number; seed?: number } = {}) {
    const start = options.start ?? Date.UTC(2026, 0, 5, 8);
    this.#random = seededRandom(options.seed ?? 1);
    this.clock = new VirtualClock(start);
    this.#start = start;
  }

  /** Starts the lab's DNS for `zone`; hosts started afterwards get SRV and A records in it, as if they had published. */
  async useDns(zone = 'lab.test'): Promise<void> {
    const zones = new ZoneSet();
    const z = defaultZone(zone);
    zones.add(z);
    this.#dns = { server: await DnsServer.start({ zones, listen: ['127.0.0.1'], port: 0 }), zone: z };
  }

  async startHost(options: SimHostOptions = {}): Promise<KmsHost> {
    const name = options.name ?? 'lab-host';
    const h: SimHost = { name, store: await MemoryStore.open(), port: 0, options, running: null };
    await this.#run(h);
    this.#hosts.push(h);
    if (this.#dns) {
      const fqdn = `${name}.${this.#dns.zone.origin}`;
      this.#dns.zone.add({ name: `_vlmcs._tcp.${this.#dns.zone.origin}`, type: TYPE.SRV, class: CLASS.IN, ttl: 600, data: { type: 'SRV', priority: options.priority ?? 0, weight: options.weight ?? 0, port: h.port, target: fqdn } });
      this.#dns.zone.add({ name: fqdn, type: TYPE.A, class: CLASS.IN, ttl: 600, data: { type: 'A', address: '127.0.0.1' } });
    }
    return h.running!;
  }

  /** Removes every `_vlmcs._tcp` SRV record from the lab zone (what a misconfigured DNS does); returns them for `restoreSrv`. */
  removeSrv(): ResourceRecord[] {
    if (!this.#dns) throw new Error('useDns() first');
    const name = `_vlmcs._tcp.${this.#dns.zone.origin}`;
    const set = this.#dns.zone.rrset(name, TYPE.SRV);
    const removed = (set?.records ?? []).map((data) => ({ name, type: TYPE.SRV, class: CLASS.IN, ttl: set!.ttl, data }));
    this.#dns.zone.delete(name, TYPE.SRV);
    return removed;
  }

  restoreSrv(records: readonly ResourceRecord[]): void {
    for (const rr of records) this.#dns?.zone.add(rr);
  }

  /** The host goes down (its counts stay in its store). */
  async stopHost(name: string): Promise<void> {
    const h = this.#findHost(name);
    await h.running?.close();
    h.running = null;
  }

  /** The host comes back on the same port with the same counts. */
  async restartHost(name: string): Promise<void> {
    const h = this.#findHost(name);
    if (!h.running) await this.#run(h);
  }

  async #run(h: SimHost): Promise<void> {
    const { keyGroup, licensePacks, makKeys } = h.options;
    h.running = await KmsHost.start({ hostId: h.name, store: h.store, clock: this.clock, listen: ['127.0.0.1'], port: h.port, admin: null, keyGroup, licensePacks, makKeys });
    h.port = h.running.port;
  }

  #findHost(name: string): SimHost {
    const h = this.#hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** The first host (or the one named), running. */
  hostNamed(name?: string): KmsHost {
    const h = name ? this.#findHost(name) : this.#hosts[0];
    if (!h?.running) throw new Error(`host ${name ?? ''} is not running`);
    return h.running;
  }

  get host(): KmsHost {
    return this.hostNamed();
  }

  /** A client machine that joins at `minute` (virtual minutes from the start) and then follows the KMS client schedule. */
  addClient(name: string, productId: string, minute: number, options: { dns?: boolean } = {}): void {
    const dns = options.dns ?? false;
    if (dns && !this.#dns) throw new Error('useDns() first');
    const state = { ...newClientState(), manualHost: dns ? null : `127.0.0.1:${this.#hosts[0]!.port}` };
    this.#clients.push({ name, productId, state, joinAt: this.#start + minute * TIME.MINUTE_MS, leaveAt: null, dns });
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
        const at = c.state.installedAt ? this.clock.now() + dueIn(c.state, this.clock.now()) : c.joinAt;
        if (c.leaveAt !== null && at >= c.leaveAt) continue;
        if (at <= until && (!next || at < next.at)) next = { client: c, at };
      }
      if (!next) break;
      this.clock.set(Math.max(this.clock.now(), next.at));
      await this.#contact(next.client);
    }
    this.clock.set(Math.max(this.clock.now(), until));
  }

  async #contact(c: SimClient): Promise<void> {
    const dns = c.dns && this.#dns ? { dns: { host: '127.0.0.1', port: this.#dns.server.port }, domains: [this.#dns.zone.origin] } : { domains: [] };
    let failure: string | null = null;
    const outcome = await activateOnce({ state: c.state, productId: c.productId, clock: this.clock, random: this.#random, connectTimeoutMs: 500, ...dns }).catch((err: unknown) => {
      failure = (err as { code?: string }).code ?? 'error'; // 0x8007232B: no SRV record
      return null;
    });
    // An attempt that threw before scheduling must not be retried at the same instant forever.
    if (dueIn(c.state, this.clock.now()) === 0) c.state.nextContactAt = new Date(this.clock.now() + 2 * 60 * TIME.MINUTE_MS).toISOString();
    if (!outcome) {
      const minute = Math.round((this.clock.now() - this.#start) / TIME.MINUTE_MS);
      const threshold = this.#catalog.product(c.productId).threshold;
      this.timeline.push({ minute, client: c.name, product: c.productId, count: null, threshold, licensed: false, via: null, errorCode: failure, host: null });
      return;
    }
    const r = outcome.response;
    this.timeline.push({
      minute: Math.round((this.clock.now() - this.#start) / TIME.MINUTE_MS),
      client: c.name,
      product: c.productId,
      count: r?.count ?? null,
      threshold: r?.threshold ?? this.#catalog.product(c.productId).threshold,
      licensed: r?.licensed ?? Boolean(outcome.mak),
      via: outcome.mak ? 'mak' : r?.licensed ? 'kms' : null,
      errorCode: outcome.errorCode,
      host: outcome.host,
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const h of this.#hosts) await h.running?.close();
    await this.#dns?.server.close();
  }
}

export function formatMinute(minute: number): string {
  const d = Math.floor(minute / 1440);
  const h = Math.floor((minute % 1440) / 60);
  const m = minute % 60;
  return `${d > 0 ? `day ${d} ` : ''}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}
