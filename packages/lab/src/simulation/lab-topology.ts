import { KmsLabError, TIME, waitFor } from '@kmslab/core';
import type { ResourceRecord } from '@kmslab/dns-wire';
import { InProcessDns, ProcessDns, type InProcessDnsOptions, type LabDns } from '../lab-dns.js';

/** How the lab's DNS zone behaves: secure-only, aging (in-process only). */
export type LabDnsOptions = Pick<InProcessDnsOptions, 'secure' | 'aging' | 'secondaries'>;
import { InProcessHost, ProcessHost, type SimHost, type SimHostOptions } from '../lab-hosts.js';
import { RedisServer } from '../live/redis-server.js';
import type { EventLog, VirtualClock } from '@kmslab/core';

/**
 * What a simulation runs on: the lab DNS, the hosts and (for the Redis
 * store) a redis-server of the lab's own — in this process, or as `kmslab`
 * processes (`live`). Every change is told to `note` for the report.
 */
export class LabTopology implements AsyncDisposable {
  readonly #hosts: SimHost[] = [];
  readonly #clock: VirtualClock;
  readonly #live: { kmslab: readonly string[] } | undefined;
  readonly #store: 'memory' | 'redis';
  readonly #note: (label: string) => void;
  #dns: LabDns | null = null;
  #redis: RedisServer | null = null;

  readonly #events: EventLog;

  constructor(o: { clock: VirtualClock; live: { kmslab: readonly string[] } | undefined; store: 'memory' | 'redis'; note: (label: string) => void; events: EventLog }) {
    this.#events = o.events;
    this.#clock = o.clock;
    this.#live = o.live;
    this.#store = o.store;
    this.#note = o.note;
  }

  get dns(): LabDns | null {
    return this.#dns;
  }

  /** The hosts started so far (running or not), in order. */
  get hosts(): readonly SimHost[] {
    return this.#hosts;
  }

  async useDns(zone: string, options: LabDnsOptions = {}): Promise<void> {
    if (this.#live && (options.secure || options.aging || options.secondaries)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', 'Secure zones, aging and secondaries run in the in-process lab only (not --live)');
    this.#dns = this.#live
      ? await ProcessDns.start(this.#live.kmslab, zone)
      : await InProcessDns.start(zone, { clock: this.#clock, events: this.#events, note: this.#note, ...options });
  }

  /** Grants a group of hosts on a name of the lab's secure zone. */
  grantDns(group: string, hosts: readonly string[], name: string): void {
    const dns = this.#needDns();
    if (!dns.grant) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', 'Grants need the in-process lab DNS with a secure zone');
    dns.grant(group, hosts, name);
  }

  async #redisUrl(): Promise<string | null> {
    if (this.#store !== 'redis') return null;
    this.#redis ??= await RedisServer.start();
    return this.#redis.url;
  }

  async startHost(options: SimHostOptions): Promise<SimHost> {
    const name = options.name ?? 'lab-host';
    const redisUrl = await this.#redisUrl();
    const live = this.#live;
    const dns = this.#dns instanceof ProcessDns ? { server: this.#dns.server, zone: this.#dns.zone, tsigKey: this.#dns.tsigKey } : undefined;
    const h: SimHost = live ? new ProcessHost(name, options, this.#clock, { kmslab: live.kmslab, redisUrl: redisUrl!, dns }) : new InProcessHost(name, options, this.#clock, redisUrl, this.#events);
    await h.start();
    this.#hosts.push(h);
    await this.#dns?.hostStarted(name, h.port, options.priority ?? 0, options.weight ?? 0);
    return h;
  }

  async removeSrv(): Promise<ResourceRecord[]> {
    const dns = this.#needDns();
    this.#note('SRV removed');
    return dns.removeSrv();
  }

  async restoreSrv(records: readonly ResourceRecord[]): Promise<void> {
    this.#note('SRV restored');
    await this.#dns?.restoreSrv(records);
  }

  async addDnsFault(rule: string): Promise<string> {
    const id = await this.#needDns().addFault(rule);
    this.#note(`DNS fault on: ${rule}`);
    return id;
  }

  async removeDnsFault(id: string, rule: string): Promise<void> {
    await this.#dns?.removeFault(id);
    this.#note(`DNS fault off: ${rule}`);
  }

  async stopHost(name: string): Promise<void> {
    this.#note(`${name} down`);
    await this.findHost(name).stop();
    this.#dns?.hostStopped?.(name);
  }

  async restartHost(name: string): Promise<void> {
    this.#note(`${name} up`);
    const h = this.findHost(name);
    await h.start();
    await this.#dns?.hostStarted(name, h.port, h.options.priority ?? 0, h.options.weight ?? 0);
  }

  async stopRedis(): Promise<void> {
    const redis = this.#needRedis();
    this.#note('Redis down');
    await redis.stop();
    await this.#waitForHosts(false);
  }

  async startRedis(): Promise<void> {
    const redis = this.#needRedis();
    this.#note('Redis up');
    await redis.resume();
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

  jumpHostClock(name: string, ms: number): void {
    this.#note(`${name} clock ${ms >= 0 ? '+' : ''}${ms / TIME.MINUTE_MS} min`);
    this.findHost(name).skewMs += ms;
  }

  findHost(name: string): SimHost {
    const h = this.#hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** The lab host an address (HOST:PORT, as a client named it) points at: hosts keep their port across restarts. */
  hostAt(address: string | null): SimHost | undefined {
    const port = Number(address?.split(':').pop());
    return this.#hosts.find((h) => h.port === port);
  }

  #needDns(): LabDns {
    if (!this.#dns) throw new Error('useDns() first');
    return this.#dns;
  }

  #needRedis(): RedisServer {
    if (!this.#redis) throw new Error('Redis events need the Redis store (store: redis, or --live)');
    return this.#redis;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const h of this.#hosts) await h.close();
    await this.#dns?.close();
    await this.#redis?.[Symbol.asyncDispose]();
  }
}
